import NetfilterModel

/// A chain as the engine runs it: the rules reduced to what evaluation reads (no locations, no
/// text), so stepping through rules copies almost nothing; plus the chain's index, if any.
final class CompiledChain: @unchecked Sendable {
  /// One rule, for evaluation (a class: stepping through rules copies a reference, not the rule).
  final class Rule {
    let matches: [Match]
    /// `meta mark set` values, in order (the only statement that changes what later rules see).
    let marks: [UInt32]
    let verdict: Verdict?
    init(matches: [Match], marks: [UInt32], verdict: Verdict?) {
      self.matches = matches
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
