import NetfilterModel
import VerdictEngine

/// The packets aimed at one rule: inside its addresses, sets, protocol, ports and interfaces (outside
/// them for a negated match), with ct state new, and established too when the rule tests ct state.
struct RuleAim {
  /// A table's named sets, looked up by name once.
  struct Table {
    var family: Family
    var sets: [String: NamedSet]
    init(_ table: NetfilterModel.Table) {
      family = table.family
      sets = Dictionary(table.sets.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }
    func elements(_ name: String) -> [SetElement] { sets[name]?.elements ?? [] }
  }

  var rule: Rule
  var table: Table
  /// The matches of the rule, after those of the jump that leads to its chain.
  var matches: [Match]

  init(rule: Rule, table: Table, entryMatches: [Match] = []) {
    self.rule = rule
    self.table = table
    matches = entryMatches + rule.matches
  }

  func probes(hooks: [Hook]) -> [PlanProbe] {
    let states: [CTState] =
      matches.contains { if case .ctState = $0.kind { true } else { false } }
      ? [.new, .established] : [.new]
    var probes: [PlanProbe] = []
    for v in versions() {
      for hook in hooks {
        for state in states {
          for port in destinationPorts(v) {
            if let packet = packet(v, hook, state, port: port) {
              probes.append(PlanProbe(request: Simulator.Request(packet: packet, hook: hook), hook: hook))
            }
          }
        }
      }
    }
    return probes
  }

  /// The IP versions the table sees and the rule allows.
  func versions() -> [IPVersion] {
    table.family.ipVersions.filter { v in
      matches.allSatisfy { match in
        switch match.kind {
        case .address(let mv, _, _), .icmpType(let mv, _), .icmpCode(let mv, _): return mv == v
        case .l4proto(.ipProtocol, _): return v == .v4
        case .l4proto(.ip6NextHeader, _): return v == .v6
        case .nfproto(let mv): return (mv == v) != match.negated
        default: return true
        }
      }
    }
  }

  /// One packet per element of a positive destination port set (a few at most); nil means "the
  /// rule does not choose".
  func destinationPorts(_ v: IPVersion) -> [PortRange?] {
    for match in matches where !match.negated {
      guard case .port(_, .destination, let operand) = match.kind else { continue }
      let ports = portElements(operand)
      if !ports.isEmpty { return Array(ports.prefix(ProbeSet.elementsPerRule)) }
    }
    return [nil]
  }

  /// A mark that passes (or, not `positive`, fails) `mark & mask == value`, starting from `current`.
  static func aim(_ current: UInt32, _ value: UInt32, _ mask: UInt32?, _ positive: Bool) -> UInt32 {
    if positive { return value }
    guard current & (mask ?? .max) == value else { return current }
    let other = (value ^ 1) & (mask ?? .max)
    return other & (mask ?? .max) == value ? (mask ?? 1) : other
  }

  func packet(_ v: IPVersion, _ hook: Hook, _ state: CTState, port chosenPort: PortRange?) -> Packet? {
    var p = PlanProbe.Generic.packet(v, hook, proto: 6, port: 22, state: state)
    var flags: TCPFlags?
    var portChosen = false
    for match in matches {
      let positive = !match.negated
      switch match.kind {
      case .address(_, let direction, let operand):
        let elements = addressElements(operand, v)
        let current = direction == .source ? p.source! : p.destination
        let chosen = positive ? elements.first.map(representative) : outside(elements, from: current)
        guard let chosen else { return nil }
        if direction == .source { p.source = chosen } else { p.destination = chosen }
      case .l4proto(_, let operand):
        let protos = protoElements(operand)
        if positive {
          guard let first = protos.first(where: { $0 == p.l4proto }) ?? protos.first else { return nil }
          setProtocol(&p, first, v, state)
        } else if let current = p.l4proto, protos.contains(current) {
          guard let other = [6, 17, v == .v4 ? 1 : 58, 47].first(where: { !protos.contains($0) }) else { return nil }
          setProtocol(&p, other, v, state)
        }
      case .port(let proto, let direction, let operand):
        if p.l4proto != proto.number { setProtocol(&p, proto.number, v, state) }
        let ports = portElements(operand)
        let current = direction == .source ? p.sourcePort! : p.destinationPort!
        var chosen: UInt16
        if positive {
          guard let first = (direction == .destination && !portChosen ? chosenPort : nil) ?? ports.first else {
            return nil
          }
          chosen = first.first
          if direction == .destination { portChosen = true }
        } else {
          chosen = current
          while ports.contains(where: { $0.contains(chosen) }) {
            guard chosen < .max else { return nil }
            chosen += 1
          }
        }
        if direction == .source { p.sourcePort = chosen } else { p.destinationPort = chosen }
      case .icmpType(let mv, let operand), .icmpCode(let mv, let operand):
        let icmp: UInt8 = mv == .v4 ? 1 : 58
        if p.l4proto != icmp { setProtocol(&p, icmp, v, state) }
        guard case .icmpType = match.kind else {
          p.icmpCode = pick(operand.inlineElements, positive: positive, current: p.icmpCode ?? 0)
          continue
        }
        p.icmpType = pick(operand.inlineElements, positive: positive, current: p.icmpType ?? 8)
      case .interface, .interfaceIndex:
        let direction: Direction
        var patterns: [InterfacePattern]
        switch match.kind {
        case .interface(let d, let operand):
          direction = d
          patterns = operand.inlineElements
          if case .named(let name) = operand {
            patterns = table.elements(name).compactMap { if case .interface(let i) = $0 { i } else { nil } }
          }
        case .interfaceIndex(let d, let operand):
          direction = d
          patterns = operand.inlineElements.map { InterfacePattern(name: $0) }
        default: continue
        }
        let current = (direction == .input ? p.inputInterface : p.outputInterface) ?? PlanProbe.Generic.inputInterface
        let chosen: String?
        if positive {
          chosen = patterns.first.map { $0.isWildcard ? $0.name + "0" : $0.name }
        } else {
          chosen = [current, "fb0", "fbplan0"].first { name in !patterns.contains { $0.matches(name) } }
        }
        guard let chosen else { return nil }
        if direction == .input { p.inputInterface = chosen } else { p.outputInterface = chosen }
      case .mark(let value, let mask):
        p.mark = Self.aim(p.mark, value, mask, positive)
      case .ctMark(let value, let mask):
        p.ctMark = Self.aim(p.ctMark, value, mask, positive)
      case .etherSource(let operand):
        let macs = operand.inlineElements.isEmpty ? etherElements(operand) : operand.inlineElements
        if positive, let first = macs.first { p.etherSource = first }
      case .tcpFlags(let value, let mask):
        if p.l4proto != 6 { setProtocol(&p, 6, v, state) }
        if positive { flags = value.union(PlanProbe.Generic.defaultFlags(state).subtracting(mask)) }
      case .nfproto, .ctState, .bridgePort, .limit, .opaque, .addressType:
        // The version is chosen by `versions()`.
        continue
      }
    }
    if let flags, p.l4proto == 6 { p.tcpFlags = flags }
    return p
  }

  /// Gives the packet protocol `proto` and the fields that come with it.
  func setProtocol(_ p: inout Packet, _ proto: UInt8, _ v: IPVersion, _ state: CTState) {
    let fresh = PlanProbe.Generic.packet(v, .input, proto: proto, port: 22, state: state)
    p.l4proto = proto
    p.sourcePort = fresh.sourcePort
    p.destinationPort = fresh.destinationPort
    p.icmpType = fresh.icmpType
    p.icmpCode = fresh.icmpCode
    p.tcpFlags = fresh.tcpFlags
  }

  func pick(_ values: [UInt8], positive: Bool, current: UInt8) -> UInt8 {
    if positive { return values.first ?? current }
    return values.contains(current)
      ? (0...255).first { !values.contains(UInt8($0)) }.map(UInt8.init) ?? current : current
  }

  /// The first usable address of an element (not the network address of a prefix).
  func representative(_ element: AddressElement) -> IPAddress {
    let (low, high) = element.bounds
    if case .prefix(let prefix) = element, prefix.length < prefix.address.bitWidth - 1, let next = low.successor {
      return next
    }
    return low <= high ? low : high
  }

  /// `current` if no element covers it, else the first address after the elements that do.
  func outside(_ elements: [AddressElement], from current: IPAddress) -> IPAddress? {
    var address = current
    for _ in 0...elements.count {
      guard let covering = elements.first(where: { $0.contains(address) }) else { return address }
      guard let next = covering.bounds.1.successor else { return nil }
      address = next
    }
    return nil
  }

  func addressElements(_ operand: Operand<AddressElement>, _ v: IPVersion) -> [AddressElement] {
    guard case .named(let name) = operand else { return operand.inlineElements.filter { $0.version == v } }
    return table.elements(name).compactMap { if case .address(let a) = $0, a.version == v { a } else { nil } }
  }

  func portElements(_ operand: Operand<PortRange>) -> [PortRange] {
    guard case .named(let name) = operand else { return operand.inlineElements }
    return table.elements(name).compactMap { if case .port(let p) = $0 { p } else { nil } }
  }

  func protoElements(_ operand: Operand<UInt8>) -> [UInt8] {
    guard case .named(let name) = operand else { return operand.inlineElements }
    return table.elements(name).compactMap { if case .proto(let p) = $0 { p } else { nil } }
  }

  func etherElements(_ operand: Operand<MACAddress>) -> [MACAddress] {
    guard case .named(let name) = operand else { return operand.inlineElements }
    return table.elements(name).compactMap { if case .ether(let m) = $0 { m } else { nil } }
  }
}
