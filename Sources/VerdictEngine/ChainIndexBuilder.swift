import NetfilterModel

/// Builds a `ChainIndex` tree: each rule's coverage of each field as key intervals (a superset of
/// the keys for which its matches can hold), then recursive splits on the field that leaves a
/// packet the fewest candidates.
struct ChainIndexBuilder {
  typealias Intervals = [(UInt64, UInt64)]

  /// Per field, per rule: the key intervals the rule can match; nil when it does not constrain
  /// the field.
  var coverage: [[Intervals?]] = []
  /// Rules after the first that matches everything and ends the chain can never be reached;
  /// the tree leaves them out.
  var reachable = 0
  var interfaceIDs: [String: UInt64] = [:]

  var nodes: [ChainIndex.Node] = []
  var starts: [UInt64] = []
  var children: [Int32] = []
  var ruleStore: [Int32] = []

  /// Rules in a leaf small enough to check one by one.
  static let leafSize = 8
  /// Intervals a rule may be copied into at one split before it goes to the wildcard subtree.
  static let spread = 24

  init(rules: [Rule], table: Table) {
    for rule in rules {
      for m in rule.matches {
        guard case .interface(.input, let op) = m.kind else { continue }
        for p in MatchEvaluator.elements(op, table, MatchEvaluator.interfaces) where !p.isWildcard {
          if interfaceIDs[p.name] == nil { interfaceIDs[p.name] = UInt64(interfaceIDs.count + 1) }
        }
      }
    }
    reachable =
      (rules.firstIndex { $0.matches.isEmpty && ChainIndexBuilder.endsChain($0.verdict) } ?? rules.count - 1) + 1
    coverage = ChainIndex.Field.allCases.map { field in
      rules.map { ChainIndexBuilder.coverage($0, field, table, interfaceIDs) }
    }
  }

  mutating func build() {
    nodes.append(ChainIndex.Node(field: -1, first: 0, count: 0, wildcard: -1))
    let all = (0..<reachable).map { Int32($0) }
    let root = node(all, unused: Set(ChainIndex.Field.allCases.map(\.rawValue)))
    nodes[0] = nodes[Int(root)]
  }

  /// One way to split `rules` on a field.
  struct Split {
    var field: Int
    var starts: [UInt64]
    var lists: [[Int32]]
    var wildcards: [Int32]
    /// The candidates a packet aimed at a random rule can expect to face.
    var cost: Double
  }

  /// Builds the subtree of `rules` (ascending) and returns its node.
  mutating func node(_ rules: [Int32], unused: Set<Int>) -> Int32 {
    var best: Split?
    if rules.count > ChainIndexBuilder.leafSize {
      for field in unused.sorted() {
        guard let split = split(rules, on: field) else { continue }
        if split.cost < best?.cost ?? Double(rules.count) * 0.7 { best = split }
      }
    }
    guard let best else {
      nodes.append(ChainIndex.Node(field: -1, first: Int32(ruleStore.count), count: Int32(rules.count), wildcard: -1))
      ruleStore.append(contentsOf: rules)
      return Int32(nodes.count - 1)
    }
    var rest = unused
    rest.remove(best.field)

    // Equal lists share one subtree; adjacent intervals with the same subtree merge.
    var built: [[Int32]: Int32] = [:]
    var mergedStarts: [UInt64] = []
    var mergedChildren: [Int32] = []
    for (k, list) in best.lists.enumerated() {
      let child: Int32
      if list.isEmpty {
        child = -1
      } else if let known = built[list] {
        child = known
      } else {
        child = node(list, unused: rest)
        built[list] = child
      }
      if mergedChildren.last == child { continue }
      mergedStarts.append(best.starts[k])
      mergedChildren.append(child)
    }
    // Rules too wide to copy into the intervals split again on the same field, among themselves
    // (their intervals are coarser); the field is used up only when none of them constrains it.
    let wide = best.wildcards.contains { coverage[best.field][Int($0)] != nil }
    let wildcard = best.wildcards.isEmpty ? -1 : node(best.wildcards, unused: wide ? unused : rest)
    nodes.append(
      ChainIndex.Node(
        field: Int8(best.field), first: Int32(starts.count), count: Int32(mergedStarts.count), wildcard: wildcard))
    starts.append(contentsOf: mergedStarts)
    children.append(contentsOf: mergedChildren)
    return Int32(nodes.count - 1)
  }

  /// True for a verdict after which no later rule of the chain runs.
  static func endsChain(_ verdict: Verdict?) -> Bool {
    switch verdict {
    case nil, .continue?, .jump?: return false
    case .accept?, .drop?, .reject?, .return?, .goto?, .snat?, .dnat?, .masquerade?, .redirect?: return true
    // A terminal opaque target ends the run (as unknown); a LOG-like one lets the next rule run.
    case .opaque(let target)?: return target.isTerminal
    }
  }

  /// The split of `rules` on `field`, nil when no rule constrains it.
  func split(_ rules: [Int32], on field: Int) -> Split? {
    let cover = coverage[field]
    var points: [UInt64] = [0]
    for r in rules {
      for (lo, hi) in cover[Int(r)] ?? [] {
        points.append(lo)
        if hi < .max { points.append(hi + 1) }
      }
    }
    guard points.count > 1 else { return nil }
    points.sort()
    var starts: [UInt64] = []
    starts.reserveCapacity(points.count)
    for p in points where starts.last != p { starts.append(p) }
    var lists = Array(repeating: [Int32](), count: starts.count)
    var wildcards: [Int32] = []
    var slots: [Int] = []
    for r in rules {
      guard let intervals = cover[Int(r)] else {
        wildcards.append(r)
        continue
      }
      slots.removeAll(keepingCapacity: true)
      for (lo, hi) in intervals {
        var k = ChainIndexBuilder.interval(of: lo, in: starts)
        while k < starts.count && starts[k] <= hi && slots.count <= ChainIndexBuilder.spread {
          slots.append(k)
          k += 1
        }
      }
      if slots.count > ChainIndexBuilder.spread {
        wildcards.append(r)
      } else {
        for k in slots { lists[k].append(r) }
      }
    }
    // Expected list size for a packet aimed at a random rule: Σ size² / Σ size.
    var sum = 0.0
    var squares = 0.0
    for l in lists {
      sum += Double(l.count)
      squares += Double(l.count) * Double(l.count)
    }
    let cost = Double(wildcards.count) + (sum > 0 ? squares / sum : 0)
    return Split(field: field, starts: starts, lists: lists, wildcards: wildcards, cost: cost)
  }

  static func interval(of key: UInt64, in starts: [UInt64]) -> Int {
    var lo = 0
    var hi = starts.count - 1
    while lo < hi {
      let mid = (lo + hi + 1) >> 1
      if starts[mid] <= key { lo = mid } else { hi = mid - 1 }
    }
    return lo
  }

  // MARK: Coverage of one rule

  /// The keys of `field` for which `rule` can match, nil when it does not constrain the field.
  /// Only the first match on a field is used (a superset is all the index needs).
  static func coverage(_ rule: Rule, _ field: ChainIndex.Field, _ table: Table, _ ids: [String: UInt64])
    -> Intervals?
  {
    switch field {
    case .source: return addressCoverage(rule, .source, table)
    case .destination: return addressCoverage(rule, .destination, table)
    case .sourcePort: return portCoverage(rule, .source, table)
    case .destinationPort: return portCoverage(rule, .destination, table)
    case .inputInterface: return interfaceCoverage(rule, table, ids)
    }
  }

  static func addressCoverage(_ rule: Rule, _ direction: Direction, _ table: Table) -> Intervals? {
    for m in rule.matches {
      guard case .address(let version, let d, let op) = m.kind, d == direction else { continue }
      // An IPv6 address match holds only for packets that are not IPv4 (the dependency fails on
      // IPv4, negated or not).
      if version == .v6 { return [(ChainIndex.notIPv4, ChainIndex.notIPv4)] }
      var intervals: Intervals = []
      for e in MatchEvaluator.addresses(op, table) {
        guard case .v4(let lo) = e.bounds.0, case .v4(let hi) = e.bounds.1 else { continue }
        intervals.append((UInt64(lo), UInt64(hi)))
      }
      return m.negated ? complement(intervals, 0, UInt64(UInt32.max)) : intervals
    }
    return nil
  }

  static func portCoverage(_ rule: Rule, _ direction: Direction, _ table: Table) -> Intervals? {
    for m in rule.matches {
      guard case .port(let proto, let d, let op) = m.kind, d == direction else { continue }
      let base = UInt64(proto.number) << 16
      let intervals = MatchEvaluator.elements(op, table, MatchEvaluator.ports).map {
        (base | UInt64($0.first), base | UInt64($0.last))
      }
      // Negated, the protocol must still be the port's (the dependency).
      return m.negated ? complement(intervals, base, base | 0xffff) : intervals
    }
    // A protocol match constrains the protocol half of the key.
    for m in rule.matches {
      guard case .l4proto(_, let op) = m.kind else { continue }
      var protos = MatchEvaluator.elements(op, table, MatchEvaluator.protos).map { UInt64($0) }
      if m.negated { protos = (0...255).filter { !protos.contains($0) } }
      return protos.map { ($0 << 16, $0 << 16 | 0xffff) }
    }
    return nil
  }

  static func interfaceCoverage(_ rule: Rule, _ table: Table, _ ids: [String: UInt64]) -> Intervals? {
    for m in rule.matches {
      guard case .interface(.input, let op) = m.kind else { continue }
      let patterns = MatchEvaluator.elements(op, table, MatchEvaluator.interfaces)
      if patterns.contains(where: \.isWildcard) { return nil }
      let intervals = patterns.compactMap { ids[$0.name] }.map { ($0, $0) }
      return m.negated ? complement(intervals, 0, UInt64(ids.count)) : intervals
    }
    return nil
  }

  /// The keys of [lower, upper] that `intervals` leave out.
  static func complement(_ intervals: Intervals, _ lower: UInt64, _ upper: UInt64) -> Intervals {
    var result: Intervals = []
    var next = lower
    for (lo, hi) in intervals.sorted(by: { $0.0 < $1.0 }) {
      if lo > next { result.append((next, lo - 1)) }
      if hi >= upper { return result }
      next = max(next, hi + 1)
    }
    result.append((next, upper))
    return result
  }
}
