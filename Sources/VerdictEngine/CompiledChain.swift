import NetfilterModel

/// A chain as the engine runs it: the rules reduced to what evaluation reads (no locations, no
/// text), so stepping through rules copies almost nothing; plus the chain's index, if any.
final class CompiledChain: @unchecked Sendable {
  /// One rule, for evaluation (a class: stepping through rules copies a reference, not the rule).
  final class Rule {
    let matches: [Match]
    /// The same matches as plain-data checks where possible (see `FastMatch`).
    let fast: [FastMatch]
    /// `meta mark set` values, in order (the only statement that changes what later rules see).
    let marks: [UInt32]
    let verdict: Verdict?
    init(matches: [Match], marks: [UInt32], verdict: Verdict?) {
      self.matches = matches
      self.fast = matches.map(FastMatch.init)
      self.marks = marks
      self.verdict = verdict
    }
  }

  /// The model chain (for names, rule text and locations).
  let chain: Chain
  let rules: [Rule]
  let index: ChainIndex?

  init(_ chain: Chain, index: ChainIndex?) {
    self.chain = chain
    self.index = index
    rules = chain.rules.map { rule in
      Rule(
        matches: rule.matches.map { Match($0.kind, negated: $0.negated) },
        marks: rule.statements.compactMap { if case .setMark(let m) = $0.kind { return m } else { return nil } },
        verdict: rule.verdict)
    }
  }
}

/// The most common matches as plain data, checked without copying the model's enums. Anything
/// else, and any packet lacking the field (where the answer is `unknown`), goes through
/// `MatchEvaluator` with the original match, so results are identical.
enum FastMatch {
  case v4Address(source: Bool, lo: UInt32, hi: UInt32, negated: Bool)
  case port(proto: UInt8, source: Bool, lo: UInt16, hi: UInt16, negated: Bool)
  case protocolNumber(field: ProtocolField, value: UInt8, negated: Bool)
  case general

  init(_ m: Match) {
    switch m.kind {
    case .address(.v4, let d, .single(let e)):
      guard case .v4(let lo) = e.bounds.0, case .v4(let hi) = e.bounds.1 else {
        self = .general
        return
      }
      self = .v4Address(source: d == .source, lo: lo, hi: hi, negated: m.negated)
    case .port(let p, let d, .single(let r)):
      self = .port(proto: p.number, source: d == .source, lo: r.first, hi: r.last, negated: m.negated)
    case .l4proto(let field, .single(let v)):
      self = .protocolNumber(field: field, value: v, negated: m.negated)
    default:
      self = .general
    }
  }

  /// The truth for `packet`, or nil when the general evaluator must decide.
  @inline(__always)
  func evaluate(_ packet: Packet) -> Bool? {
    switch self {
    case .v4Address(let source, let lo, let hi, let negated):
      guard packet.kind == .ipv4 else { return false }
      guard let address = source ? packet.source : packet.destination, case .v4(let a) = address else { return nil }
      return (lo <= a && a <= hi) != negated
    case .port(let proto, let source, let lo, let hi, let negated):
      guard packet.l4proto == proto else { return false }
      guard let port = source ? packet.sourcePort : packet.destinationPort else { return nil }
      return (lo <= port && port <= hi) != negated
    case .protocolNumber(let field, let value, let negated):
      switch field {
      case .ipProtocol: if packet.kind != .ipv4 { return false }
      case .ip6NextHeader: if packet.kind != .ipv6 { return false }
      case .metaL4proto: if packet.kind == .arp { return false }
      }
      guard let proto = packet.l4proto else { return nil }
      return (proto == value) != negated
    case .general:
      return nil
    }
  }
}
