import NetfilterModel
import VerdictEngine

/// A seedable generator (SplitMix64), so every benchmark and equivalence run can be replayed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  var state: UInt64
  public init(seed: UInt64) { state = seed }
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// ClassBench-like rulesets for the engine's benchmark and equivalence tests: prefix pairs drawn
/// from a pool of networks (mostly /16 to /32, some broad), protocol mixes, exact and ranged
/// ports, some interfaces and negations, and jumps into regular chains; plus packets biased to hit
/// the rules. As in real ACLs (ClassBench's seeds), almost every rule names both a source and a
/// destination network, negations are rare (1%, ClassBench has none), and specific rules come
/// before broad ones (a broad rule first would shadow them).
public struct SyntheticRulesets {
  var rng: SplitMix64
  public init(seed: UInt64) { rng = SplitMix64(seed: seed) }

  mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
  mutating func int(_ r: ClosedRange<Int>) -> Int { Int.random(in: r, using: &rng) }

  static let wellKnownPorts: [UInt16] = [22, 25, 53, 80, 110, 123, 143, 443, 993, 3306, 5432, 6379, 8080, 8443]

  /// A forward-chain ruleset of about `size` rules: an `ip filter` FORWARD base chain and
  /// `size / 100` regular chains it jumps to. With `specificFirst` false the base chain keeps the
  /// random order (broad rules anywhere: packets are decided early).
  public mutating func ruleset(size: Int, specificFirst: Bool = true) -> Ruleset {
    let networks = (0..<max(8, size / 8)).map { _ -> (UInt32, Int) in
      let length = chance(0.1) ? int(8...15) : int(16...24)
      return (UInt32.random(in: 0x0100_0000...0xdfff_ffff, using: &rng) & (UInt32.max << UInt32(32 - length)), length)
    }
    let userChains = (0..<max(1, size / 100)).map { "c\($0)" }
    var line = 0
    func location() -> SourceLocation {
      line += 1
      return SourceLocation(file: "synthetic.policy", line: line, column: 1)
    }
    func prefix() -> AddressElement {
      let (base, length) = networks[int(0...(networks.count - 1))]
      let extra = int(0...min(8, 32 - length))
      let sub =
        extra == 0 ? 0 : UInt32.random(in: 0...((1 << UInt32(extra)) - 1), using: &rng) << UInt32(32 - length - extra)
      return .prefix(IPPrefix(address: .v4(base | sub), length: length + extra))
    }
    func rule(canJump: Bool) -> Rule {
      let at = location()
      var matches: [Match] = []
      if chance(0.92) {
        matches.append(Match(.address(.v4, .source, .single(prefix())), negated: chance(0.01), location: at))
      }
      if chance(0.96) {
        matches.append(Match(.address(.v4, .destination, .single(prefix())), negated: chance(0.01), location: at))
      }
      let proto = chance(0.6) ? TransportProtocol.tcp : chance(0.8) ? .udp : nil
      if let proto {
        if chance(0.85) {
          let port: PortRange
          if chance(0.7) {
            port = PortRange(SyntheticRulesets.wellKnownPorts[int(0...(SyntheticRulesets.wellKnownPorts.count - 1))])
          } else {
            let a = UInt16(int(1...60000))
            port = PortRange(a, a + UInt16(int(0...2000)))
          }
          matches.append(Match(.port(proto, .destination, .single(port)), negated: chance(0.01), location: at))
        }
        if chance(0.2) { matches.append(Match(.port(proto, .source, .single(PortRange(1024, 65535))), location: at)) }
      } else if chance(0.5) {
        matches.append(Match(.l4proto(.metaL4proto, .single(1)), location: at))
      }
      if chance(0.15) {
        matches.append(
          Match(
            .interface(.input, .single(InterfacePattern(parsing: chance(0.8) ? "eth\(int(0...3))" : "veth*"))),
            location: at))
      }
      var verdict: Verdict? = chance(0.55) ? .accept : chance(0.8) ? .drop : nil
      if canJump && chance(0.05) { verdict = .jump(chain: userChains[int(0...(userChains.count - 1))]) }
      // A rule needs something to do (an empty one is a policy error).
      if matches.isEmpty && verdict == nil { verdict = .continue }
      return Rule(matches: matches, statements: [], verdict: verdict, verdictLocation: at, location: at)
    }
    let perUser = max(1, size / 10 / userChains.count)
    var forward = Chain(
      name: "FORWARD",
      kind: .base(BaseChain(type: .filter, hook: .forward, priority: Priority(name: .filter), policy: .drop)),
      location: location())
    let rules = (0..<(size - perUser * userChains.count)).map { _ in rule(canJump: true) }
    forward.rules = specificFirst ? SyntheticRulesets.specificFirst(rules) : rules
    var chains = [forward]
    for name in userChains {
      var c = Chain(name: name, kind: .regular, location: location())
      c.rules = (0..<perUser).map { _ in rule(canJump: false) }
      if chance(0.5) { c.rules.append(Rule(verdict: .return, verdictLocation: location(), location: location())) }
      chains.append(c)
    }
    return Ruleset(tables: [Table(family: .ip, name: "filter", chains: chains)])
  }

  /// The rules ordered by how much they pin down (prefix lengths, exact ports), most specific
  /// first; equal ones keep their order.
  static func specificFirst(_ rules: [Rule]) -> [Rule] {
    func specificity(_ rule: Rule) -> Int {
      rule.matches.reduce(0) { total, m in
        switch m.kind {
        case .address(_, _, .single(.prefix(let p))): return total + (m.negated ? 0 : p.length)
        case .port(_, _, .single(let r)): return total + (r.isSinglePort ? 16 : 8)
        case .interface: return total + 8
        default: return total
        }
      }
    }
    return rules.enumerated().sorted { a, b in
      let (x, y) = (specificity(a.element), specificity(b.element))
      return x != y ? x > y : a.offset < b.offset
    }.map(\.element)
  }

  /// Packets for `ruleset`: most aimed at a random rule (addresses inside its prefixes, ports
  /// inside its ranges), the rest random.
  public mutating func packets(_ count: Int, for ruleset: Ruleset) -> [Simulator.Request] {
    let rules = ruleset.tables.flatMap(\.chains).flatMap(\.rules)
    return (0..<count).map { _ in
      var source = UInt32.random(in: 0x0100_0000...0xdfff_ffff, using: &rng)
      var destination = UInt32.random(in: 0x0100_0000...0xdfff_ffff, using: &rng)
      var proto: UInt8 = [6, 6, 17, 1][int(0...3)]
      var dport = UInt16(int(1...65535))
      if chance(0.8), let rule = rules.randomElement(using: &rng) {
        for m in rule.matches where !m.negated {
          switch m.kind {
          case .address(_, .source, .single(let e)): source = inside(e)
          case .address(_, .destination, .single(let e)): destination = inside(e)
          case .port(let p, .destination, .single(let r)):
            proto = p.number
            dport = UInt16.random(in: r.first...r.last, using: &rng)
          default: break
          }
        }
      }
      let icmp = proto == 1
      let packet = Packet(
        source: .v4(source), destination: .v4(destination), l4proto: proto,
        sourcePort: icmp ? nil : UInt16(int(1024...65535)),
        destinationPort: icmp ? nil : dport, icmpType: icmp ? 8 : nil, icmpCode: icmp ? 0 : nil,
        tcpFlags: proto == 6 ? .syn : nil, inputInterface: "eth\(int(0...4))", outputInterface: "eth9")
      return Simulator.Request(packet: packet, hook: .forward)
    }
  }

  mutating func inside(_ e: AddressElement) -> UInt32 {
    guard case .v4(let lo) = e.bounds.0, case .v4(let hi) = e.bounds.1 else { return 0 }
    return UInt32.random(in: lo...hi, using: &rng)
  }
}
