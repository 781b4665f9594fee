import NetfilterModel

/// What a rule can see of its table: the family, and the named sets and maps by name.
struct NFTRuleContext {
  let family: Family
  /// Named sets the model holds, with their element type.
  var sets: [String: SetType] = [:]
  /// Sets and maps kept out of the model (a type it lacks, or a map), by name.
  var unmodelled: Set<String> = []
}

/// Reads the tokens of one rule (variables already expanded) into model rules: each part of the
/// rule (a match, a statement, a verdict) is read on its own; what the model can express becomes
/// a `Match`, `Statement` or `Verdict`, anything else stays as its nft text with a warning, and
/// `finish` places the parts (see there). A verdict map on a field the model tests becomes one
/// rule per element.
struct NFTRuleReader {
  /// The rule's tokens, without line breaks.
  let tokens: [NFTToken]
  let context: NFTRuleContext
  let location: SourceLocation
  var pos = 0
  var parts: [Part] = []
  var comment: String?
  var diagnostics: [Diagnostic] = []
  /// Chains named by `jump`/`goto` (also inside verdict maps), checked once the script is read.
  var references: [(chain: String, location: SourceLocation)] = []

  /// One part of a rule and the tokens it was read from.
  struct Part {
    enum Kind {
      /// A test the model holds.
      case match(Match.Kind, negated: Bool)
      /// A test the model lacks (`fib daddr type local`); `pure` when it only reads the packet
      /// (not `numgen`, `meta random`), so evaluating it twice gives the same answer.
      case opaqueMatch(pure: Bool)
      /// `counter`, `log`, `meta mark set`.
      case statement(Statement.Kind)
      /// A statement the model lacks: `inert` ones act and let the rule go on without changing
      /// anything the model tests (`ct helper set`, `flow add @ft`, `notrack` as the engine knows
      /// it); others may end the rule early or change what later rules test (`quota`, `add @set`,
      /// `ip daddr set …`).
      case action(inert: Bool)
      /// A verdict or NAT statement the model holds.
      case verdict(Verdict)
      /// A statement that decides the packet's fate in a way the model lacks (`queue`, a NAT or
      /// reject with options it has no field for, a verdict map it cannot expand).
      case opaqueVerdict
      /// A verdict map whose key the model tests: one (match, verdict) per element.
      case vmap([(kind: Match.Kind, verdict: Verdict, location: SourceLocation)])
    }
    var kind: Kind
    var range: Range<Int>
    var location: SourceLocation

    /// True for the parts that end a rule (a verdict, NAT, reject, queue, a verdict map).
    var isFinal: Bool {
      switch kind {
      case .verdict, .opaqueVerdict, .vmap: return true
      default: return false
      }
    }
    var isCounter: Bool {
      if case .statement(.counter) = kind { return true }
      return false
    }
  }

  init(tokens: [NFTToken], context: NFTRuleContext) {
    self.tokens = tokens.filter { $0.kind != .newline }
    self.context = context
    self.location = tokens.first?.location ?? .unknown
  }

  // MARK: Cursor

  var peek: NFTToken? { pos < tokens.count ? tokens[pos] : nil }
  func peek(_ k: Int) -> NFTToken? { pos + k < tokens.count ? tokens[pos + k] : nil }
  func peekWord(_ word: String) -> Bool { peek?.isWord(word) == true }
  var here: SourceLocation { peek?.location ?? tokens.last?.location ?? location }

  mutating func next() -> NFTToken? {
    guard pos < tokens.count else { return nil }
    pos += 1
    return tokens[pos - 1]
  }

  /// A located error for the current token ("found X", or the end of the rule).
  func fail(_ expected: String) -> Diagnostic {
    guard let t = peek else { return .error("expected \(expected) at the end of the rule", at: here) }
    return .error("expected \(expected), found '\(t.source)'", at: t.location)
  }

  mutating func expectWord(_ expected: String) throws -> NFTToken {
    guard let t = peek, t.kind == .word else { throw fail(expected) }
    pos += 1
    return t
  }

  /// A name: a word or a quoted string.
  mutating func expectName(_ expected: String) throws -> NFTToken {
    guard let t = peek, t.kind == .word || t.kind == .string else { throw fail(expected) }
    pos += 1
    return t
  }

  /// The nft text of a token range, with the source's spacing.
  func text(_ range: Range<Int>) -> String { Array(tokens[range]).nftText }

  // MARK: Reading

  /// The rule's model rules (one, or one per element of an expanded verdict map); none, with an
  /// error, when the rule cannot be read.
  mutating func read() -> [Rule] {
    do {
      while let t = peek {
        if t.isWord("comment") {
          pos += 1
          comment = try expectName("a quoted comment").text
          continue
        }
        if let final = parts.last(where: { !$0.isCounter }), final.isFinal {
          throw Diagnostic.error(
            "unexpected '\(t.source)' after '\(text(final.range))': a verdict ends the rule", at: t.location)
        }
        let start = pos
        var part = try readPart()
        part.range = start..<pos
        part.location = tokens[start].location
        parts.append(part)
      }
    } catch let d as Diagnostic {
      diagnostics.append(d)
      return []
    } catch {
      diagnostics.append(.error("\(error)", at: location))
      return []
    }
    guard !parts.isEmpty else {
      diagnostics.append(.error("this rule has no match, statement or verdict", at: location))
      return []
    }
    return finish()
  }

  mutating func warn(_ message: String, at location: SourceLocation) {
    diagnostics.append(Diagnostic(.warning, message, at: location))
  }

  /// Places the parts into the model's order (matches, then statements, then one verdict) without
  /// changing what the rule does:
  /// - matches, opaque or not, stay in their order;
  /// - statements after the last match are the rule's statements; a `counter` before a match is
  ///   moved after them (counts aside, nothing changes); any other statement before a match stays
  ///   where it is as an opaque match, so the engine answers `unknown` rather than misjudge it;
  /// - the final verdict is the rule's verdict; an unknown inert statement in its place becomes
  ///   an opaque non-terminal target (as `NFTJSONRule.finish` does for a lone one); every other
  ///   unknown statement is an opaque match;
  /// - a verdict map on a modelled key, after parts that only test (and counters), becomes one
  ///   rule per element: the keys of a map are disjoint, so at most one of them holds.
  mutating func finish() -> [Rule] {
    var finalIndex: Int?
    if let k = parts.lastIndex(where: { !$0.isCounter }) {
      switch parts[k].kind {
      case .verdict, .opaqueVerdict, .vmap: finalIndex = k
      case .action(inert: true): finalIndex = k
      default: break
      }
    }
    var matches: [Match] = []
    var statements: [Statement] = []
    var verdict: Verdict?
    var verdictLocation = location
    // The index after which no test follows: statements there keep their meaning.
    var testsEnd = 0
    for (k, part) in parts.enumerated() where k != finalIndex {
      switch part.kind {
      case .match, .opaqueMatch, .action: testsEnd = k + 1
      default: continue
      }
    }
    for (k, part) in parts.enumerated() where k != finalIndex {
      let partText = text(part.range)
      switch part.kind {
      case .match(let kind, let negated):
        matches.append(Match(kind, negated: negated, location: part.location))
      case .opaqueMatch, .action:
        let match = opaque(partText, part.location)
        matches.append(match)
        warn("\(Self.module(partText)) is not modelled; kept as an opaque match '\(partText)'", at: part.location)
      case .statement(let kind):
        if k < testsEnd {
          if case .counter = kind {
            warn(
              "counter before a match is moved after the rule's matches (it now counts only the packets that match)",
              at: part.location)
          } else {
            let module = Self.module(partText)
            matches.append(opaque(partText, part.location))
            warn(
              "\(module) before a match is kept as an opaque match '\(partText)' (the model runs statements after the matches)",
              at: part.location)
            continue
          }
        }
        statements.append(Statement(kind, location: part.location))
      case .verdict, .opaqueVerdict, .vmap:
        break  // only the final part is one (see `read`)
      }
    }
    guard let finalIndex else {
      return [rule(matches, statements, nil, location)]
    }
    let final = parts[finalIndex]
    let finalText = text(final.range)
    verdictLocation = final.location
    switch final.kind {
    case .verdict(let v):
      verdict = v
    case .opaqueVerdict, .action:
      let target = OpaqueTarget.nft(finalText)!
      verdict = .opaque(target)
      warn(
        "\(target.name) is not modelled; kept as an opaque \(target.isTerminal ? "" : "non-terminal ")target '\(finalText)'",
        at: final.location)
    case .vmap(let elements):
      // Expanding repeats the other parts once per element: only pure tests (and counters) may be
      // repeated without changing what the rule does.
      let repeatable = parts.enumerated().allSatisfy { k, part in
        switch part.kind {
        case .match(let kind, _):
          if case .limit = kind { return false }
          return true
        case .opaqueMatch(let pure): return pure
        case .statement(.counter): return true
        default: return k == finalIndex
        }
      }
      // After a `jump` returns, the next expanded rule tests the key again: a key the called chain
      // can rewrite in a way the model follows (a packet or connection mark, the conntrack state
      // by notrack) could then take a second branch the map never would.
      let rewritableKey =
        elements.contains { if case .jump = $0.verdict { true } else { false } }
        && elements.contains { element in
          switch element.kind {
          case .mark, .ctMark, .ctState: return true
          default: return false
          }
        }
      if repeatable && !rewritableKey && !elements.isEmpty {
        warn(
          "verdict map '\(finalText)' is expanded into \(elements.count) rule\(elements.count == 1 ? "" : "s"), one per element (its keys are disjoint)",
          at: final.location)
        return elements.map { element in
          var r = rule(
            matches + [Match(element.kind, location: element.location)], statements, element.verdict,
            element.location)
          r.verdictLocation = element.location
          return r
        }
      }
      let target = OpaqueTarget.nft(finalText)!
      verdict = .opaque(target)
      warn("\(target.name) verdict map is not modelled; kept as an opaque target '\(finalText)'", at: final.location)
    default:
      break
    }
    return [rule(matches, statements, verdict, verdictLocation)]
  }

  func rule(_ matches: [Match], _ statements: [Statement], _ verdict: Verdict?, _ verdictLocation: SourceLocation)
    -> Rule
  {
    Rule(
      matches: matches, statements: statements, verdict: verdict, verdictLocation: verdictLocation, comment: comment,
      location: location)
  }

  /// An opaque nft match, named as the policy language names it when it reads it back.
  func opaque(_ text: String, _ location: SourceLocation) -> Match {
    Match(.opaque(OpaqueMatch(module: Self.module(text), text: text, syntax: .nft)), location: location)
  }

  /// What an opaque part tests or does, for messages: its first word or two (`OpaqueMatch.nftModule`).
  static func module(_ text: String) -> String {
    OpaqueMatch.nftModule(text.split(whereSeparator: { $0 == " " || $0 == "\t" }))
  }
}
