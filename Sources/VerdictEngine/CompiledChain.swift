import NetfilterModel

/// A chain as the engine runs it: the rules reduced to what evaluation reads (no locations, no
/// text), so stepping through rules copies almost nothing; plus the chain's index, if any.
final class CompiledChain: @unchecked Sendable {
  /// One rule, for evaluation (a class: stepping through rules copies a reference, not the rule).
  final class Rule {
    let matches: [Match]
    /// The same matches as plain-data checks where possible (see `FastMatch`).
    let fast: [FastMatch]
    /// The statements that change what later rules see (packet and connection marks), in order.
    let marks: [MarkEffect]
    let verdict: Verdict?
    init(matches: [Match], marks: [MarkEffect], verdict: Verdict?) {
      self.matches = matches
      self.fast = matches.map(FastMatch.init)
      self.marks = marks
      self.verdict = verdict
    }
  }

  /// A statement that writes a mark.
  enum MarkEffect {
    case setMark(UInt32)
    case setCTMark(UInt32)
    case saveMark
    case restoreMark

    init?(_ statement: Statement.Kind) {
      switch statement {
      case .setMark(let m): self = .setMark(m)
      case .setCTMark(let m): self = .setCTMark(m)
      case .saveMark: self = .saveMark
      case .restoreMark: self = .restoreMark
      case .counter, .log: return nil
      }
    }
  }

  /// The model chain (for names, rule text and locations).
  let chain: Chain
  /// Its name and model rules, read without copying the chain (a decision needs just these).
  let name: String
  let models: [NetfilterModel.Rule]
  let rules: [Rule]
  /// Each rule's plain-data checks, side by side in one array (a candidate costs one cache line,
  /// not a walk through objects).
  let filters: [RuleFilter]
  let index: ChainIndex?

  init(_ chain: Chain, index: ChainIndex?) {
    self.chain = chain
    self.name = chain.name
    self.models = chain.rules
    self.index = index
    rules = chain.rules.map { rule in
      Rule(
        matches: rule.matches.map { Match($0.kind, negated: $0.negated) },
        marks: rule.statements.compactMap { MarkEffect($0.kind) },
        verdict: rule.verdict)
    }
    filters = rules.map { RuleFilter($0.fast) }
  }
}

/// Up to four of a rule's `FastMatch` checks inline. `check` is false when one of them fails (the
/// rule cannot match, whatever its other matches say), true when the checks are all of the rule's
/// matches and all hold, and nil when the full evaluation must decide.
struct RuleFilter {
  var checks: (FastMatch, FastMatch, FastMatch, FastMatch) = (.general, .general, .general, .general)
  var count: UInt8 = 0
  /// Every match of the rule is among the checks.
  var complete = true

  init(_ fast: [FastMatch]) {
    for f in fast {
      if case .general = f {
        complete = false
        continue
      }
      switch count {
      case 0: checks.0 = f
      case 1: checks.1 = f
      case 2: checks.2 = f
      case 3: checks.3 = f
      default:
        complete = false
        continue
      }
      count += 1
    }
  }

  @inline(__always)
  func check(_ packet: Packet) -> Bool? {
    var all = complete
    for k in 0..<count {
      let f: FastMatch
      switch k {
      case 0: f = checks.0
      case 1: f = checks.1
      case 2: f = checks.2
      default: f = checks.3
      }
      switch f.evaluate(packet) {
      case false?: return false
      case true?: continue
      case nil: all = false
      }
    }
    return all ? true : nil
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
