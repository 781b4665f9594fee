import NetfilterModel

/// The result of testing a match: true, false, or unknown with the reason (never a guess).
public enum Truth: Hashable, Sendable {
  case yes
  case no
  case unknown(String)
}

/// What a match can see besides the packet: its table (named sets), hook and chain priority.
struct MatchContext {
  /// The chain being run (a reference: the table is copied only when a named set is read).
  let hooked: NamespaceFirewall.HookedChain
  var table: Table { hooked.table }
  var hook: Hook
  /// Priority of the base chain being run; below -200 conntrack has not run yet.
  var priority: Int
  /// Notes the evaluation adds (`limit` assumed fresh, …).
  var assumptions: Set<String> = []
  /// The opaque target that may have changed the packet mark (see `RunState.markChangedBy`).
  var markChangedBy: String? = nil
  /// The opaque target that may have changed the connection's mark.
  var ctMarkChangedBy: String? = nil
  /// The topology's view of addresses; nil without a topology.
  var network: NetworkContext? = nil
  /// Without a topology, the host's own address on this path (see `RunState.plainHostAddress`).
  var plainHostAddress: IPAddress? = nil

  /// The kernel's type of `address` here: from the topology, else the plain host owns only
  /// `plainHostAddress` (said in the assumptions).
  mutating func addressType(_ address: IPAddress) -> AddressType {
    if let network { return network.addressType(address) }
    if let special = AddressType.special(address) { return special }
    assumptions.insert(
      "no topology: the host's own address is the destination of a packet it receives or the source of one it sends; no other address is local or a subnet broadcast"
    )
    return address == plainHostAddress ? .local : .unicast
  }

  /// True when conntrack has looked at the packet by this chain: it runs at priority -200 of
  /// prerouting and output, so every chain of the later hooks sees its result.
  var conntrackHasRun: Bool {
    (hook != .prerouting && hook != .output) || priority >= MatchEvaluator.conntrackPriority
  }

  /// True when the packet has a conntrack entry here: conntrack has run and the packet is
  /// neither untracked nor invalid (`nf_ct_get` returns NULL for both).
  func hasConntrackEntry(_ packet: Packet) -> Bool {
    conntrackHasRun && packet.ctState != .untracked && packet.ctState != .invalid
  }
}

/// Evaluates model matches against a packet, as the kernel does.
enum MatchEvaluator {
  /// Conntrack's hook priority: chains before it see no conntrack entry (state invalid).
  static let conntrackPriority = -200

  static func evaluate(_ match: Match, _ packet: Packet, _ context: inout MatchContext) -> Truth {
    // A match whose protocol dependency fails (an `ip saddr` on an IPv6 packet, a `tcp dport` on
    // UDP) is false even when negated: nft adds a positive dependency, iptables emits the rule
    // only in the family or with the `-p` it belongs to.
    let raw = evaluatePositive(match.kind, packet, &context)
    switch raw {
    case .dependencyFailed: return .no
    case .unknown(let why): return .unknown(why)
    case .value(let v): return (v != match.negated) ? .yes : .no
    }
  }

  enum Raw {
    case value(Bool)
    case dependencyFailed
    case unknown(String)
  }

  static func evaluatePositive(_ kind: Match.Kind, _ packet: Packet, _ context: inout MatchContext) -> Raw {
    switch kind {
    case .address(let version, let direction, let operand):
      guard packet.version == version else { return .dependencyFailed }
      guard let address = direction == .source ? packet.source : packet.destination else {
        return .unknown("the packet's source address was not given (--src)")
      }
      return .value(
        any(operand, context.table, { if case .address(let a) = $0 { return a } else { return nil } }) {
          $0.contains(address)
        })

    case .nfproto(let version):
      guard let packetVersion = packet.version else { return .dependencyFailed }
      return .value(packetVersion == version)

    case .l4proto(let field, let operand):
      switch field {
      case .ipProtocol: if packet.version != .v4 { return .dependencyFailed }
      case .ip6NextHeader: if packet.version != .v6 { return .dependencyFailed }
      case .metaL4proto: if packet.kind == .arp { return .dependencyFailed }
      }
      guard let proto = packet.l4proto else { return .unknown("the packet's protocol was not given (--proto)") }
      return .value(any(operand, context.table, protos) { $0 == proto })

    case .port(let proto, let direction, let operand):
      guard packet.l4proto == proto.number else { return .dependencyFailed }
      guard let port = direction == .source ? packet.sourcePort : packet.destinationPort else {
        return .unknown(
          "the packet's \(direction == .source ? "source" : "destination") port was not given (--\(direction == .source ? "sport" : "dport"))"
        )
      }
      return .value(any(operand, context.table, ports) { $0.contains(port) })

    case .icmpType(let version, let operand), .icmpCode(let version, let operand):
      guard packet.version == version, packet.l4proto == (version == .v4 ? 1 : 58) else { return .dependencyFailed }
      let isType: Bool
      if case .icmpType = kind { isType = true } else { isType = false }
      guard let value = isType ? packet.icmpType : packet.icmpCode else {
        return .unknown("the packet's icmp \(isType ? "type" : "code") was not given (--icmp-type)")
      }
      if case .named(let name) = operand { return .unknown("icmp types from the named set @\(name) are not modelled") }
      return .value(operand.inlineElements.contains(value))

    case .interface(let direction, let operand):
      let name = direction == .input ? packet.inputInterface : packet.outputInterface
      let hookHasNone =
        direction == .input ? context.hook == .output : (context.hook == .prerouting || context.hook == .input)
      let value: String
      if hookHasNone {
        value = ""
      } else if let name {
        value = name
      } else {
        return .unknown(
          "the packet's \(direction == .input ? "input" : "output") interface was not given (--\(direction == .input ? "iif" : "oif"))"
        )
      }
      return .value(any(operand, context.table, interfaces) { $0.matches(value) })

    case .interfaceIndex(let direction, let operand):
      // Names do not change during a simulation: the index stands for its name.
      return evaluatePositive(.interface(direction, operand.map { InterfacePattern(name: $0) }), packet, &context)

    case .bridgePort(let direction, let pattern):
      // Not bridged: the port is empty (xt_physdev); a positive test fails, a negated one holds.
      let port = (direction == .input ? packet.bridgePortIn : packet.bridgePortOut) ?? ""
      return .value(!port.isEmpty && pattern.matches(port))

    case .ctState(let states):
      let state: CTState = context.conntrackHasRun ? packet.ctState : .invalid
      if !context.conntrackHasRun {
        context.assumptions.insert("conntrack has not run before priority -200: ct state is invalid there")
      }
      return .value(states.contains(state))

    case .mark(let value, let mask):
      if let target = context.markChangedBy {
        return .unknown("the packet mark may have been changed by target \(target), which is not modelled")
      }
      return .value(packet.mark & (mask ?? UInt32.max) == value)

    case .addressType(let direction, let types):
      guard packet.kind != .arp else { return .dependencyFailed }
      guard let address = direction == .source ? packet.source : packet.destination else {
        return .unknown("the packet's source address was not given (--src)")
      }
      return .value(types.contains(context.addressType(address)))

    case .ctMark(let value, let mask):
      // No conntrack entry: xt_connmark and nft's ct expression both fail, negated or not.
      guard context.hasConntrackEntry(packet) else { return .dependencyFailed }
      if let target = context.ctMarkChangedBy {
        return .unknown("the connection mark may have been changed by target \(target), which is not modelled")
      }
      if packet.ctState != .new {
        context.assumptions.insert("ct mark: the connection's mark is \(NFTSyntax.hex(packet.ctMark)) (--ct-mark)")
      }
      return .value(packet.ctMark & (mask ?? UInt32.max) == value)

    case .etherSource(let operand):
      if context.hook == .output || context.hook == .postrouting { return .dependencyFailed }
      guard let mac = packet.etherSource else {
        return .unknown("the packet's source MAC was not given (--ether-src)")
      }
      return .value(elements(operand, context.table, macs).contains(mac))

    case .tcpFlags(let value, let mask):
      guard packet.l4proto == 6 else { return .dependencyFailed }
      guard let flags = packet.tcpFlags else { return .unknown("the packet's TCP flags were not given (--tcp-flags)") }
      return .value(flags.intersection(mask) == value)

    case .limit(let limit):
      context.assumptions.insert("limit: evaluated as the first packet on fresh state (the bucket is full)")
      return .value(!limit.over)

    case .opaque(let opaque):
      return .unknown("the \(opaque.module) match is not modelled (kept as written)")
    }
  }

  /// True when some element of the operand passes `test` (no allocation for inline operands).
  @inline(__always)
  static func any<T>(
    _ operand: Operand<T>, _ table: Table, _ extract: (SetElement) -> T?, _ test: (T) -> Bool
  ) -> Bool {
    switch operand {
    case .single(let e): return test(e)
    case .set(let es): return es.contains(where: test)
    case .named(let name): return (table.set(name)?.elements ?? []).contains { extract($0).map(test) ?? false }
    }
  }

  static func addresses(_ operand: Operand<AddressElement>, _ table: Table) -> [AddressElement] {
    elements(operand, table) { if case .address(let a) = $0 { return a } else { return nil } }
  }

  static func protos(_ e: SetElement) -> UInt8? { if case .proto(let p) = e { return p } else { return nil } }
  static func ports(_ e: SetElement) -> PortRange? { if case .port(let p) = e { return p } else { return nil } }
  static func interfaces(_ e: SetElement) -> InterfacePattern? {
    if case .interface(let i) = e { return i } else { return nil }
  }
  static func macs(_ e: SetElement) -> MACAddress? { if case .ether(let m) = e { return m } else { return nil } }

  static func elements<T>(_ operand: Operand<T>, _ table: Table, _ extract: (SetElement) -> T?) -> [T] {
    switch operand {
    case .single(let e): return [e]
    case .set(let es): return es
    case .named(let name): return (table.set(name)?.elements ?? []).compactMap(extract)
    }
  }
}
