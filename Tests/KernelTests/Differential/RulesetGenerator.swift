import NetfilterModel
import SyntheticRulesets

/// Random rulesets from the supported model, shaped for the differential lab: packets enter the
/// router on `r0`, are for the router itself (10.1.0.1 or fd00:1::1, input) or routed out `r1`
/// (172.16.0.0/12 or fd00:172::/32, forward). Every rule counts (`counter`) and carries a unique line, so kernel counters name it.
struct RulesetGenerator {
  var rng: SplitMix64
  var line = 0

  static let sourcePrefixes: [(String, Int)] = [
    ("10.5.0.0", 16), ("10.5.1.0", 24), ("10.5.1.7", 32), ("10.6.0.0", 15), ("192.168.1.0", 24),
    ("192.168.0.0", 16), ("198.18.0.0", 15), ("10.0.0.0", 8), ("10.1.0.0", 24),
  ]
  static let forwardPrefixes: [(String, Int)] = [
    ("172.16.1.0", 24), ("172.16.1.5", 32), ("172.17.0.0", 16), ("172.20.0.0", 14), ("172.16.0.0", 12),
  ]
  static let sourcePrefixes6: [(String, Int)] = [
    ("fd00:5::", 32), ("fd00:5:1::", 48), ("fd00:5:1::7", 128), ("fd00:6::", 31), ("2001:db8::", 32),
    ("fd00::", 16),
  ]
  static let forwardPrefixes6: [(String, Int)] = [
    ("fd00:172:1::", 48), ("fd00:172:1::5", 128), ("fd00:172::", 32), ("fd00:172:2::", 64),
  ]
  static let ports: [UInt16] = [22, 53, 80, 443, 1000, 1024, 5000, 8080]

  init(seed: UInt64) { rng = SplitMix64(seed: seed) }

  mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
  mutating func pick<T>(_ xs: [T]) -> T { xs[Int.random(in: 0..<xs.count, using: &rng)] }

  mutating func nextLocation() -> SourceLocation {
    line += 1
    return SourceLocation(file: "diff.policy", line: line, column: 1)
  }

  func prefix(_ p: (String, Int)) -> IPPrefix {
    IPPrefix(address: IPAddress(p.0)!.masked(to: p.1), length: p.1)
  }

  mutating func addressElement(_ pool: [(String, Int)]) -> AddressElement {
    let base = prefix(pick(pool))
    guard chance(0.2) else { return .prefix(base) }
    // A range inside the prefix, a few hundred addresses wide at most.
    switch (base.first, base.last) {
    case (.v4(let first), .v4(let last)):
      let a = UInt32.random(in: first...last, using: &rng)
      return .range(.v4(a), .v4(UInt32.random(in: a...min(last, a &+ 300), using: &rng)))
    case (.v6(let hi, let lo), .v6(_, let lastLo)):
      let span = lastLo &- lo
      let a = lo &+ UInt64.random(in: 0...min(span, 1000), using: &rng)
      let b = a &+ UInt64.random(in: 0...min(lastLo &- a, 300), using: &rng)
      return .range(.v6(hi, a), .v6(hi, b))
    default:
      return .prefix(base)
    }
  }

  /// How many elements an operand gets: mostly one, sometimes an anonymous set of 2–3.
  mutating func elementCount() -> Int { chance(0.25) ? Int.random(in: 2...3, using: &rng) : 1 }

  func operand<T>(_ xs: [T]) -> Operand<T> { xs.count == 1 ? .single(xs[0]) : .set(xs) }

  mutating func port() -> PortRange {
    if chance(0.25) {
      let a = pick(RulesetGenerator.ports)
      return PortRange(a, a + UInt16.random(in: 1...2000, using: &rng))
    }
    return PortRange(pick(RulesetGenerator.ports))
  }

  /// A match for a chain on `hook` (nil for a regular chain).
  mutating func match(_ hook: Hook?, _ location: SourceLocation) -> Match {
    let negated = chance(0.3)
    let kinds = [
      "saddr", "daddr", "proto", "port", "port", "icmp", "iif", "oif", "ct", "mark", "ctmark", "flags", "limit",
    ]
    switch pick(kinds) {
    case "saddr":
      let v6 = chance(0.5)
      var xs: [AddressElement] = []
      for _ in 0..<elementCount() {
        xs.append(addressElement(v6 ? RulesetGenerator.sourcePrefixes6 : RulesetGenerator.sourcePrefixes))
      }
      return Match(.address(v6 ? .v6 : .v4, .source, operand(xs)), negated: negated, location: location)
    case "daddr":
      let v6 = chance(0.5)
      let pool: [(String, Int)]
      if v6 {
        pool = chance(0.5) ? RulesetGenerator.forwardPrefixes6 : [("fd00:1::1", 128), ("fd00:1::", 64), ("fd00::", 16)]
      } else {
        pool = chance(0.5) ? RulesetGenerator.forwardPrefixes : [("10.1.0.1", 32), ("10.1.0.0", 24), ("10.0.0.0", 8)]
      }
      var xs: [AddressElement] = []
      for _ in 0..<elementCount() { xs.append(addressElement(pool)) }
      return Match(.address(v6 ? .v6 : .v4, .destination, operand(xs)), negated: negated, location: location)
    case "proto":
      let op: Operand<UInt8> = chance(0.3) ? .set([6, 17]) : .single(pick([6, 17, 1, 58]))
      return Match(.l4proto(.metaL4proto, op), negated: negated, location: location)
    case "port":
      let proto = pick(TransportProtocol.allCases)
      var xs: [PortRange] = []
      for _ in 0..<elementCount() { xs.append(port()) }
      let op = operand(xs)
      return Match(.port(proto, chance(0.7) ? .destination : .source, op), negated: negated, location: location)
    case "icmp":
      if chance(0.5) {
        let op: Operand<UInt8> = chance(0.3) ? .set([128, 129]) : .single(pick([128, 129, 1]))
        return Match(.icmpType(.v6, op), negated: negated, location: location)
      }
      let op: Operand<UInt8> = chance(0.3) ? .set([0, 8]) : .single(pick([8, 0, 3]))
      return Match(.icmpType(.v4, op), negated: negated, location: location)
    case "iif":
      let names = ["r0", "r1", "r*", "x*", "r0"].map { InterfacePattern(parsing: $0) }
      return Match(.interface(.input, .single(pick(names))), negated: negated, location: location)
    case "oif":
      guard hook == .forward || hook == nil else { return match(hook, location) }
      let names = ["r1", "r0", "r*"].map { InterfacePattern(parsing: $0) }
      return Match(.interface(.output, .single(pick(names))), negated: negated, location: location)
    case "ct":
      let states: [Set<CTState>] = [[.new], [.established, .related], [.invalid], [.new, .untracked], [.established]]
      return Match(.ctState(pick(states)), negated: negated, location: location)
    case "mark":
      if chance(0.3) { return Match(.mark(value: 0x1, mask: 0xff), negated: negated, location: location) }
      return Match(.mark(value: pick([0, 1, 2]), mask: nil), negated: negated, location: location)
    case "fib":
      if chance(0.3) { return Match(.addressType(.source, [.local]), negated: negated, location: location) }
      let types: [Set<AddressType>] = [[.local], [.unicast], [.local, .broadcast], [.multicast, .broadcast]]
      return Match(.addressType(.destination, pick(types)), negated: negated, location: location)
    case "ctmark":
      if chance(0.3) { return Match(.ctMark(value: 0x1, mask: 0xff), negated: negated, location: location) }
      return Match(.ctMark(value: pick([0, 1, 2]), mask: nil), negated: negated, location: location)
    case "flags":
      let (v, m): (TCPFlags, TCPFlags) = pick([(.syn, [.syn, .ack]), (.ack, .ack), (.syn, .syn), ([], [.fin, .rst])])
      return Match(.tcpFlags(value: v, mask: m), negated: negated, location: location)
    default:
      return Match(
        .limit(RateLimit(rate: 100_000, unit: .second, burst: 10_000, over: chance(0.5))), location: location)
    }
  }

  mutating func rule(_ hook: Hook?, isFilter: Bool, userChains: [String], canReturn: Bool) -> Rule {
    let location = nextLocation()
    var rule = Rule(location: location)
    rule.verdictLocation = location
    for _ in 0..<Int.random(in: 0...3, using: &rng) { rule.matches.append(match(hook, location)) }
    rule.statements.append(Statement(.counter, location: location))
    if chance(0.15) {
      let kinds: [Statement.Kind] = [
        .setMark(pick([1, 2, 0x101])), .setCTMark(pick([1, 2])), .saveMark, .restoreMark,
      ]
      rule.statements.append(Statement(pick(kinds), location: location))
    }
    var verdicts: [Verdict?] = [.accept, .accept, .drop, .drop, nil, nil]
    if isFilter { verdicts += [.reject(nil)] }
    if canReturn { verdicts += [.return] }
    for c in userChains { verdicts += [.jump(chain: c), .jump(chain: c), .goto(chain: c)] }
    rule.verdict = pick(verdicts)
    return rule
  }

  /// A ruleset of an `inet filter` table (INPUT, FORWARD and regular chains) and, sometimes,
  /// `inet raw` and `inet mangle` tables at their fixed priorities: one policy for IPv4 and IPv6,
  /// which the iptables backend splits into iptables and ip6tables rules.
  mutating func ruleset() -> Ruleset {
    var tables: [Table] = []
    if chance(0.35) {
      var raw = Table(family: .inet, name: "raw")
      raw.chains.append(baseChain("PREROUTING", .prerouting, .raw, isFilter: false))
      tables.append(raw)
    }
    if chance(0.35) {
      var mangle = Table(family: .inet, name: "mangle")
      for (name, hook) in [("PREROUTING", Hook.prerouting), ("INPUT", .input), ("FORWARD", .forward)] where chance(0.6)
      {
        mangle.chains.append(baseChain(name, hook, .mangle, isFilter: false))
      }
      tables.append(mangle)
    }
    var filter = Table(family: .inet, name: "filter")
    let userCount = Int.random(in: 0...3, using: &rng)
    let users = (0..<userCount).map { "u\($0)" }
    filter.chains.append(baseChain("INPUT", .input, .filter, isFilter: true, users: users))
    filter.chains.append(baseChain("FORWARD", .forward, .filter, isFilter: true, users: users))
    for (i, name) in users.enumerated() {
      var chain = Chain(name: name, kind: .regular, location: nextLocation())
      // Only later chains can be jumped to: no loops.
      let later = Array(users[(i + 1)...])
      for _ in 0..<Int.random(in: 1...4, using: &rng) {
        chain.rules.append(rule(nil, isFilter: true, userChains: later, canReturn: true))
      }
      filter.chains.append(chain)
    }
    tables.append(filter)
    return Ruleset(tables: tables)
  }

  mutating func baseChain(
    _ name: String, _ hook: Hook, _ priority: Priority.Name, isFilter: Bool, users: [String] = []
  ) -> Chain {
    let location = nextLocation()
    let policy: ChainPolicy = isFilter ? (chance(0.5) ? .drop : .accept) : (chance(0.1) ? .drop : .accept)
    var chain = Chain(
      name: name,
      kind: .base(
        BaseChain(type: .filter, hook: hook, priority: Priority(name: priority), policy: policy, location: location)),
      location: location)
    for _ in 0..<Int.random(in: 0...6, using: &rng) {
      chain.rules.append(rule(hook, isFilter: isFilter, userChains: users, canReturn: chance(0.2)))
    }
    return chain
  }
}
