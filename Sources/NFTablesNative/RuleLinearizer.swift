import NetfilterModel

/// A rule as the kernel gets it: expressions, the anonymous sets its lookups use (sent before it),
/// and the comment nft stores as userdata.
struct LinearRule {
  var expressions: [Expression]
  var anonymousSets: [KernelSet]
  var comment: String
}

/// Model rule -> nf_tables expressions, the way nft 1.0.6 linearizes the rule's script text
/// (`NFTSyntax.rule`): the same protocol dependencies (`meta nfproto`, `meta l4proto`,
/// `meta iiftype`), the same forms for prefixes, ranges and flags, anonymous sets for `{ … }`, and
/// the same merge of adjacent exact payload matches (nft's `stmt_reduce`).
///
/// Like nft's linearizer it assumes a valid rule; what the backend cannot express was rejected
/// before (`NFTScript.unsupported`), anything else left is a `DiagnosticList` at the match.
struct RuleLinearizer {
  let family: Family
  /// What earlier matches established, so dependencies are emitted once, as nft does.
  var knownNetwork: IPVersion?
  var knownTransport: UInt8?
  var knownLinkType = false
  var steps: [Step] = []
  var sets: [KernelSet] = []

  /// One statement of the rule before the payload merge.
  enum Step {
    /// A match (a relational expression statement); merge runs continue across it.
    case match([Expression])
    /// `payload == value` / `!= value`: merged with its neighbours when adjacent.
    case payloadCompare(PayloadCompare)
    /// Any other statement (counter, log, limit, verdict…): ends a merge run.
    case statement([Expression])
  }

  struct PayloadCompare {
    var base: UInt32
    var offset: UInt32
    var value: [UInt8]
    var op: UInt32
    var expressions: [Expression] {
      [.payload(base: base, offset: offset, length: UInt32(value.count)), .cmp(op, value)]
    }
  }

  init(family: Family) {
    self.family = family
    if family == .ip { knownNetwork = .v4 }
    if family == .ip6 { knownNetwork = .v6 }
  }

  /// The kernel form of `rule`.
  static func linearize(_ rule: Rule, family: Family) throws -> LinearRule {
    var l = RuleLinearizer(family: family)
    for (match, asRange) in NFTSyntax.scriptMatches(rule) { try l.add(match, asRange: asRange) }
    for statement in rule.statements { l.add(statement) }
    if case .opaque(let target)? = rule.verdict, target.syntax == .nft {
      throw DiagnosticList([
        .error(
          "nft statement '\(target.text)' is kept as text: only nft's own parser can build it, so it cannot be applied natively",
          at: rule.verdictLocation)
      ])
    }
    if let verdict = rule.verdict { l.add(verdict) }
    return LinearRule(
      expressions: l.mergedExpressions(), anonymousSets: l.sets, comment: NFTSyntax.originComment(rule))
  }

  // MARK: dependencies

  /// `meta nfproto ipv4|ipv6` before a network-header match in an inet table.
  mutating func requireNetwork(_ version: IPVersion) {
    guard knownNetwork != version else { return }
    steps.append(.match([.meta(K.metaNfproto), .cmp(K.eq, [version == .v4 ? 2 : 10])]))
    knownNetwork = version
  }

  /// `meta l4proto P` before a transport-header match.
  mutating func requireTransport(_ proto: UInt8) {
    guard knownTransport != proto else { return }
    steps.append(.match([.meta(K.metaL4proto), .cmp(K.eq, [proto])]))
    knownTransport = proto
  }

  /// `meta iiftype ether` before a link-header match.
  mutating func requireEthernet() {
    guard !knownLinkType else { return }
    steps.append(.match([.meta(K.metaIiftype), .cmp(K.eq, Bytes.host16(1))]))
    knownLinkType = true
  }

  // MARK: the merge

  /// The expressions after nft's merge: within a run of matches, exact compares on adjacent
  /// payload bytes become one compare (`tcp sport 1 tcp dport 2` loads 4 bytes), kept at the place
  /// of the lower offset; nft merges only when the result stays within 4 bytes, is link layer, or
  /// one side is already wider than 4 bytes.
  func mergedExpressions() -> [Expression] {
    var steps = self.steps
    var removed = Set<Int>()
    var run: [Int] = []
    func flush() {
      defer { run = [] }
      guard run.count > 1 else { return }
      let order = run.sorted { a, b in
        guard case .payloadCompare(let x) = steps[a], case .payloadCompare(let y) = steps[b] else { return false }
        return (x.base, x.offset) < (y.base, y.offset)
      }
      var last = order[0]
      for index in order.dropFirst() {
        guard case .payloadCompare(var l) = steps[last], case .payloadCompare(let t) = steps[index] else { continue }
        let total = l.value.count + t.value.count
        let adjacent = l.base == t.base && l.offset + UInt32(l.value.count) == t.offset
        let worth = total <= 4 || l.base == K.linkHeader || l.value.count > 4 || t.value.count > 4
        guard adjacent, total <= 16, worth, l.op == t.op else {
          last = index
          continue
        }
        l.value += t.value
        steps[last] = .payloadCompare(l)
        removed.insert(index)
      }
    }
    for (i, step) in steps.enumerated() {
      switch step {
      case .payloadCompare: run.append(i)
      case .match: break
      case .statement: flush()
      }
    }
    flush()
    return steps.indices.filter { !removed.contains($0) }.flatMap { i -> [Expression] in
      switch steps[i] {
      case .match(let e), .statement(let e): return e
      case .payloadCompare(let p): return p.expressions
      }
    }
  }

  // MARK: anonymous sets

  /// Adds an anonymous set (`__set%d`, constant) and returns the lookup on it.
  mutating func anonymousLookup(
    type: UInt32, length: UInt32, byteOrder: UInt32, elements: [KernelSet.Element], interval: Bool,
    inverted: Bool
  ) -> Expression {
    var flags = KernelSet.anonymous | KernelSet.constant
    if interval { flags |= KernelSet.interval }
    sets.append(
      KernelSet(
        name: "__set%d", keyType: type, keyLength: length, keyByteOrder: byteOrder, flags: flags,
        elements: elements))
    return .lookup(.anonymous(sets.count - 1), inverted: inverted)
  }
}

/// nft's datatype numbers (`enum datatypes` in nft's datatype.h), stored as `NFTA_SET_KEY_TYPE`.
enum DataType {
  static let ipv4Address: UInt32 = 7
  static let ipv6Address: UInt32 = 8
  static let etherAddress: UInt32 = 9
  static let inetProtocol: UInt32 = 12
  static let inetService: UInt32 = 13
  static let icmpType: UInt32 = 14
  static let ctState: UInt32 = 26
  static let fibAddressType: UInt32 = 38
  static let icmpv6Type: UInt32 = 29
  static let icmpCode: UInt32 = 32
  static let icmpv6Code: UInt32 = 33
  static let interfaceName: UInt32 = 41
  /// nft's byte orders (`NFTNL_UDATA_SET_KEYBYTEORDER`).
  static let hostOrder: UInt32 = 1
  static let bigEndian: UInt32 = 2
}
