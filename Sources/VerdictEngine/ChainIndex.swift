import NetfilterModel

/// An index over one chain's rules for fast first-match search: for a packet, the rules that
/// can possibly match, in order. It only ever over-approximates (every rule it returns is then
/// checked exactly by the rule evaluator), so answers never change.
///
/// Decomposition by field: IPv4 source and destination (elementary intervals), tcp/udp source and
/// destination ports (elementary intervals per protocol) and the input interface (exact names).
/// Each field keeps, per elementary interval, the rules whose match on that field covers it, and
/// the rules that do not constrain the field (wildcards). A packet takes the most selective field
/// and walks its list merged with the wildcards. Rules whose match covers too many intervals are
/// kept as wildcards for that field, so memory stays linear-ish in the number of rules.
public struct ChainIndex: Sendable {
  /// One field's elementary intervals over UInt32 keys (IPv4 addresses or ports).
  struct IntervalField: Sendable {
    /// Start of each elementary interval, ascending; interval k is [starts[k], starts[k+1]).
    var starts: [UInt32] = []
    /// Rules (ascending) whose constraint covers interval k.
    var lists: [[Int32]] = []
    /// Rules that do not constrain this field.
    var wildcards: [Int32] = []

    /// Builds from each rule's coverage: nil = wildcard, [] = can never match, else intervals.
    init(_ coverage: [[(UInt32, UInt32)]?], spread: Int) {
      var points = Set<UInt32>([0])
      for c in coverage {
        for (lo, hi) in c ?? [] {
          points.insert(lo)
          if hi < .max { points.insert(hi + 1) }
        }
      }
      starts = points.sorted()
      lists = Array(repeating: [], count: starts.count)
      for (rule, c) in coverage.enumerated() {
        guard let c else {
          wildcards.append(Int32(rule))
          continue
        }
        var slots: [Int] = []
        for (lo, hi) in c {
          var k = interval(of: lo)
          while k < starts.count && starts[k] <= hi && slots.count <= spread {
            slots.append(k)
            k += 1
          }
        }
        if slots.count > spread {
          wildcards.append(Int32(rule))  // covers too much: cheaper to check exactly
        } else {
          for k in slots { lists[k].append(Int32(rule)) }
        }
      }
    }

    func interval(of key: UInt32) -> Int {
      var lo = 0
      var hi = starts.count - 1
      while lo < hi {
        let mid = (lo + hi + 1) / 2
        if starts[mid] <= key { lo = mid } else { hi = mid - 1 }
      }
      return lo
    }

    func candidates(_ key: UInt32) -> ([Int32], [Int32]) { (lists[interval(of: key)], wildcards) }

    func size(_ key: UInt32) -> Int { lists[interval(of: key)].count + wildcards.count }
  }

  /// An IPv4 address field: rules matching one prefix sit in a hash per prefix length (exact, no
  /// matter how wide the prefix); ranges, sets and negations go to elementary intervals.
  struct AddressField: Sendable {
    var buckets: [UInt64: [Int32]] = [:]
    /// The same buckets in an open-addressing table (a lookup per prefix length per packet must
    /// not pay for a seeded SipHash).
    var table = PrefixTable()
    var lengths: [Int] = []
    var intervals: IntervalField

    init(_ coverage: [AddressCoverage], spread: Int) {
      var lengthSet = Set<Int>()
      var rest: [[(UInt32, UInt32)]?] = []
      for (rule, c) in coverage.enumerated() {
        switch c {
        case .prefix(let address, let length):
          buckets[UInt64(length) << 32 | UInt64(address), default: []].append(Int32(rule))
          lengthSet.insert(length)
          rest.append([])
        case .intervals(let i): rest.append(i)
        case .wildcard: rest.append(nil)
        }
      }
      lengths = lengthSet.sorted()
      intervals = IntervalField(rest, spread: spread)
      table = PrefixTable(buckets)
    }

    /// How many candidates `candidates(key)` would give (no allocation).
    func size(_ key: UInt32) -> Int {
      var total = 0
      for length in lengths {
        let masked = length == 0 ? 0 : key & (UInt32.max << UInt32(32 - length))
        total += table.count(UInt64(length) << 32 | UInt64(masked))
      }
      return total + intervals.size(key)
    }

    func candidates(_ key: UInt32) -> [[Int32]] {
      var lists: [[Int32]] = []
      for length in lengths {
        let masked = length == 0 ? 0 : key & (UInt32.max << UInt32(32 - length))
        if let l = table.lookup(UInt64(length) << 32 | UInt64(masked)) { lists.append(l) }
      }
      let (specific, wildcards) = intervals.candidates(key)
      if !specific.isEmpty { lists.append(specific) }
      if !wildcards.isEmpty { lists.append(wildcards) }
      return lists
    }
  }

  enum AddressCoverage {
    case prefix(UInt32, Int)
    case intervals([(UInt32, UInt32)])
    case wildcard
  }

  let ruleCount: Int
  let source: AddressField
  let destination: AddressField
  /// Ports by (protocol, direction): tcp sport, tcp dport, udp sport, udp dport.
  let ports: [UInt8: (source: IntervalField, destination: IntervalField)]
  let interfaces: [String: [Int32]]
  let interfaceWildcards: [Int32]

  /// Elementary intervals one rule may occupy in one field before it counts as a wildcard.
  static let spread = 48

  public init(chain: Chain, table: Table) {
    let rules = chain.rules
    ruleCount = rules.count
    source = AddressField(rules.map { ChainIndex.addressCoverage($0, .source, table) }, spread: ChainIndex.spread)
    destination = AddressField(
      rules.map { ChainIndex.addressCoverage($0, .destination, table) }, spread: ChainIndex.spread)
    var ports: [UInt8: (IntervalField, IntervalField)] = [:]
    for proto in TransportProtocol.allCases {
      ports[proto.number] = (
        IntervalField(rules.map { ChainIndex.portCoverage($0, proto, .source, table) }, spread: ChainIndex.spread),
        IntervalField(rules.map { ChainIndex.portCoverage($0, proto, .destination, table) }, spread: ChainIndex.spread)
      )
    }
    self.ports = ports
    var exact: [String: [Int32]] = [:]
    var wild: [Int32] = []
    for (i, rule) in rules.enumerated() {
      let names = rule.matches.compactMap { m -> [InterfacePattern]? in
        guard case .interface(.input, let op) = m.kind, !m.negated else { return nil }
        let patterns = MatchEvaluator.elements(op, table, MatchEvaluator.interfaces)
        return patterns.contains(where: \.isWildcard) ? nil : patterns
      }.first
      if let names {
        for n in names { exact[n.name, default: []].append(Int32(i)) }
      } else {
        wild.append(Int32(i))
      }
    }
    interfaces = exact
    interfaceWildcards = wild
  }

  /// Bytes the index holds (interval starts and rule lists), for the benchmark's memory column.
  public var approximateBytes: Int {
    func field(_ f: IntervalField) -> Int {
      f.starts.count * 4 + f.lists.reduce(0) { $0 + 16 + $1.count * 4 } + f.wildcards.count * 4
    }
    func address(_ f: AddressField) -> Int {
      field(f.intervals) + f.buckets.values.reduce(0) { $0 + 24 + $1.count * 4 }
    }
    var total = address(source) + address(destination)
    for (_, p) in ports { total += field(p.source) + field(p.destination) }
    total += interfaces.values.reduce(0) { $0 + 32 + $1.count * 4 } + interfaceWildcards.count * 4
    return total
  }

  /// The rules that may match `packet`, ascending; nil when no field narrows them down.
  public func candidates(for packet: Packet) -> [Int32]? {
    guard var cursor = candidateLists(for: packet) else { return nil }
    var result: [Int32] = []
    var from = 0
    while let next = cursor.next(atLeast: from) {
      result.append(Int32(next))
      from = next + 1
    }
    return result
  }

  /// The candidate lists of the most selective field, unmerged: a `CandidateCursor` walks them in
  /// order and stops as soon as the chain is decided, so an early match costs little.
  public func candidateLists(for packet: Packet) -> CandidateCursor? {
    // Sizes first (no allocation), lists only for the most selective field.
    enum Field {
      case address(AddressField, UInt32)
      case interval(IntervalField, UInt32)
      case interface([Int32])
    }
    var best: Field?
    var bestSize = ruleCount
    func consider(_ size: Int, _ field: @autoclosure () -> Field) {
      if size < bestSize {
        best = field()
        bestSize = size
      }
    }
    if let proto = packet.l4proto, let fields = ports[proto] {
      if let p = packet.destinationPort {
        consider(fields.destination.size(UInt32(p)), .interval(fields.destination, UInt32(p)))
      }
      if let p = packet.sourcePort { consider(fields.source.size(UInt32(p)), .interval(fields.source, UInt32(p))) }
    }
    if case .v4(let d) = packet.destination { consider(destination.size(d), .address(destination, d)) }
    if case .v4(let s)? = packet.source { consider(source.size(s), .address(source, s)) }
    if let iif = packet.inputInterface, bestSize > interfaceWildcards.count {
      let exact = interfaces[iif] ?? []
      consider(exact.count + interfaceWildcards.count, .interface(exact))
    }
    switch best {
    case nil: return nil
    case .address(let f, let key)?: return CandidateCursor(lists: f.candidates(key))
    case .interval(let f, let key)?:
      let (a, b) = f.candidates(key)
      return CandidateCursor(lists: [a, b].filter { !$0.isEmpty })
    case .interface(let exact)?: return CandidateCursor(lists: [exact, interfaceWildcards].filter { !$0.isEmpty })
    }
  }

  func p32(_ p: UInt16) -> UInt32 { UInt32(p) }

  /// A rule's IPv4 coverage in one address direction: nil when it does not constrain it (or the
  /// constraint is not indexable), [] when no IPv4 packet can match, else the covered intervals.
  static func addressCoverage(_ rule: Rule, _ direction: Direction, _ table: Table) -> AddressCoverage {
    var coverage: [(UInt32, UInt32)]?
    for m in rule.matches {
      guard case .address(let version, let d, let op) = m.kind, d == direction else { continue }
      // A match of the other version never holds for an IPv4 packet; this field is only used for
      // IPv4 packets, so such a rule cannot be a candidate here.
      if version == .v6 { return .intervals([]) }
      if coverage == nil, !m.negated, case .single(.prefix(let p)) = op, case .v4(let a) = p.address {
        // Only the first match on a field is indexed (any is an over-approximation).
        return .prefix(a, p.length)
      }
      var intervals: [(UInt32, UInt32)] = []
      for e in MatchEvaluator.addresses(op, table) {
        guard case .v4(let lo) = e.bounds.0, case .v4(let hi) = e.bounds.1 else { continue }
        intervals.append((lo, hi))
      }
      if m.negated { intervals = complement(intervals) }
      // Two matches on the same field: keep the first (still an over-approximation).
      if coverage == nil { coverage = intervals }
    }
    return coverage.map { .intervals($0) } ?? .wildcard
  }

  static func portCoverage(_ rule: Rule, _ proto: TransportProtocol, _ direction: Direction, _ table: Table)
    -> [(UInt32, UInt32)]?
  {
    var coverage: [(UInt32, UInt32)]?
    for m in rule.matches {
      guard case .port(let p, let d, let op) = m.kind, d == direction else { continue }
      // A port match of the other protocol never holds for this protocol's packets.
      if p != proto { return [] }
      var intervals = MatchEvaluator.elements(op, table, MatchEvaluator.ports).map {
        (UInt32($0.first), UInt32($0.last))
      }
      if m.negated { intervals = complement(intervals, max: 65535) }
      if coverage == nil { coverage = intervals }
    }
    return coverage
  }

  /// The intervals of [0, max] not covered by `intervals`.
  static func complement(_ intervals: [(UInt32, UInt32)], max: UInt32 = .max) -> [(UInt32, UInt32)] {
    var result: [(UInt32, UInt32)] = []
    var next: UInt32 = 0
    var done = false
    for (lo, hi) in intervals.sorted(by: { $0.0 < $1.0 }) {
      if lo > next { result.append((next, lo - 1)) }
      if hi >= max {
        done = true
        break
      }
      next = Swift.max(next, hi + 1)
    }
    if !done { result.append((next, max)) }
    return result
  }
}

/// Walks several ascending rule lists as one ascending sequence (a lazy k-way merge).
public struct CandidateCursor: Sendable {
  let lists: [[Int32]]
  var positions: [Int]

  init(lists: [[Int32]]) {
    self.lists = lists
    positions = Array(repeating: 0, count: lists.count)
  }

  /// The smallest rule index ≥ `from` in any list, or nil when none is left.
  public mutating func next(atLeast from: Int) -> Int? {
    var best = Int.max
    for k in 0..<lists.count {
      let list = lists[k]
      var p = positions[k]
      while p < list.count && Int(list[p]) < from { p += 1 }
      positions[k] = p
      if p < list.count { best = min(best, Int(list[p])) }
    }
    return best == Int.max ? nil : best
  }
}

/// A read-only hash table from 64-bit keys to rule lists: open addressing, linear probing, a
/// multiplicative hash. Built once per index.
struct PrefixTable: Sendable {
  var keys: [UInt64] = []
  var slots: [Int32] = []
  var lists: [[Int32]] = []
  var counts: [Int] = []
  var mask = 0

  init() {}

  init(_ buckets: [UInt64: [Int32]]) {
    var capacity = 8
    while capacity < buckets.count * 2 { capacity <<= 1 }
    mask = capacity - 1
    keys = Array(repeating: .max, count: capacity)
    slots = Array(repeating: -1, count: capacity)
    for (key, list) in buckets {
      var i = PrefixTable.hash(key) & mask
      while slots[i] >= 0 { i = (i + 1) & mask }
      keys[i] = key
      slots[i] = Int32(lists.count)
      lists.append(list)
      counts.append(list.count)
    }
  }

  @inline(__always)
  static func hash(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) }

  /// The size of the list for `key` (0 when absent).
  @inline(__always)
  func count(_ key: UInt64) -> Int {
    guard !slots.isEmpty else { return 0 }
    var i = PrefixTable.hash(key) & mask
    while slots[i] >= 0 {
      if keys[i] == key { return counts[Int(slots[i])] }
      i = (i + 1) & mask
    }
    return 0
  }

  @inline(__always)
  func lookup(_ key: UInt64) -> [Int32]? {
    guard !slots.isEmpty else { return nil }
    var i = PrefixTable.hash(key) & mask
    while slots[i] >= 0 {
      if keys[i] == key { return lists[Int(slots[i])] }
      i = (i + 1) & mask
    }
    return nil
  }
}
