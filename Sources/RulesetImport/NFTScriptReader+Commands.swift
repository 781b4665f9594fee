import NetfilterModel

/// The commands of an `nft -f` script: `add`, `create`, `insert`, `replace`, `delete`,
/// `destroy`, `flush`, `rename` of tables, chains, rules, sets, maps and elements (a command
/// without a verb adds), and `flush ruleset`.
extension NFTScriptReader {
  static let verbs: Set<String> = [
    "add", "create", "insert", "replace", "delete", "destroy", "flush", "rename", "list", "reset", "describe",
    "monitor", "export", "import", "get",
  ]
  static let objects: Set<String> = [
    "table", "chain", "rule", "set", "map", "element", "flowtable", "counter", "quota", "ct", "limit", "secmark",
    "synproxy",
  ]

  /// Where a rule goes in its chain.
  enum Placement {
    case append, prepend
    case after(handle: Int, SourceLocation)
    case before(handle: Int, SourceLocation)
    case afterIndex(Int, SourceLocation)
    case beforeIndex(Int, SourceLocation)
    case replace(handle: Int, SourceLocation)
  }

  mutating func readCommand() throws {
    let first = try expectWord("a command such as 'table', 'add rule' or 'flush ruleset'")
    var verb = "add"
    var object = first
    if Self.verbs.contains(first.text) {
      verb = first.text
      if ["list", "reset", "describe", "monitor", "export", "import", "get"].contains(verb) {
        _ = try statementTokens()
        warn("'\(verb)' is ignored: only commands that change the ruleset are imported", at: first.location)
        return try expectEnd()
      }
      object = try expectWord("table, chain, rule, set, map, element or ruleset after '\(verb)'")
    } else if !Self.objects.contains(first.text) {
      throw Diagnostic.error("unknown command '\(first.source)'", at: first.location)
    }
    switch object.text {
    case "ruleset":
      guard verb == "flush" else {
        throw Diagnostic.error("'\(verb) ruleset' is not a command that changes the ruleset", at: object.location)
      }
      var family: String?
      if let t = peek(), t.kind == .word, Self.families.contains(t.text) { family = next()!.text }
      tables.removeAll { family == nil || $0.family.rawValue == family }
      skippedTables = skippedTables.filter { family != nil && !$0.hasPrefix(family! + " ") }
    case "table": try tableCommand(verb)
    case "chain": try chainCommand(verb)
    case "rule": try ruleCommand(verb, object)
    case "set", "map": try setCommand(verb, isMap: object.text == "map")
    case "element": try elementCommand(verb)
    default:
      var kind = object.text
      if kind == "ct" { kind = "ct \(try expectWord("helper, timeout or expectation").text)" }
      try objectCommand(verb, kind)
    }
    try expectEnd()
  }

  /// `[family] name …`: the family (`ip` when none is written) and `count` names.
  mutating func readIdentity(_ count: Int) throws -> (family: String, names: [NFTToken]) {
    var family = "ip"
    if let t = peek(), t.kind == .word, Self.families.contains(t.text), let n = peek(count),
      n.kind == .word || n.kind == .string
    {
      family = next()!.text
    }
    var names: [NFTToken] = []
    for k in 0..<count { names.append(try expectName(k == 0 ? "a table name" : "a name")) }
    return (family, names)
  }

  /// The index of an imported table; nil for a table of a skipped family (its commands are
  /// skipped quietly); an error when it does not exist.
  mutating func table(_ family: String, _ name: NFTToken) throws -> Int? {
    if skippedTables.contains("\(family) \(name.text)") { return nil }
    if let t = tables.firstIndex(where: { $0.family.rawValue == family && $0.name == name.text }) { return t }
    throw Diagnostic.error("table \(family) \(name.text) does not exist", at: name.location)
  }

  /// Consumes what a skipped command carries (a block or the rest of the statement).
  mutating func skipCommandBody() throws {
    if peek()?.isPunct("{") == true {
      _ = try braceTokens()
    } else {
      _ = try statementTokens()
    }
  }

  mutating func tableCommand(_ verb: String) throws {
    let (familyName, names) = try readIdentity(1)
    let name = names[0]
    let key = "\(familyName) \(name.text)"
    let family = Family(rawValue: familyName)!
    let existing = tables.firstIndex { $0.family == family && $0.name == name.text }
    switch verb {
    case "add", "create":
      guard family.isIP else {
        if !skippedTables.contains(key) {
          skippedTables.insert(key)
          warn("table \(key) is skipped: only ip, ip6 and inet tables are imported", at: name.location)
        }
        return try skipCommandBody()
      }
      var t: Int
      if let existing {
        if verb == "create" {
          error("table \(key) already exists (create refuses; add does not)", at: name.location)
        }
        t = existing
      } else {
        tables.append(NFTTableState(family: family, name: name.text, location: name.location))
        t = tables.count - 1
      }
      if peek()?.isPunct("{") == true { try readTableBlock(t) }
    case "delete", "destroy":
      if skippedTables.remove(key) != nil { return }
      guard let existing else {
        if verb == "delete" { throw Diagnostic.error("table \(key) does not exist", at: name.location) }
        return
      }
      tables.remove(at: existing)
    case "flush":
      guard let t = try table(familyName, name) else { return }
      for c in tables[t].chains.indices { tables[t].chains[c].entries = [] }
    default:
      throw Diagnostic.error("'\(verb) table' is not a table command", at: name.location)
    }
  }

  mutating func chainCommand(_ verb: String) throws {
    let (family, names) = try readIdentity(2)
    var handle: Int?
    if names[1].isWord("handle") { handle = try number("a chain handle") }
    guard let t = try table(family, names[0]) else { return try skipCommandBody() }
    let name = names[1]
    let existing = handle.map { h in tables[t].chains.firstIndex { $0.handle == h } } ?? tables[t].chain(name.text)
    let label = handle.map { "chain with handle \($0)" } ?? "chain \(name.text)"
    switch verb {
    case "add", "create":
      let declaration = ChainDeclaration(name: name.text, location: name.location, create: verb == "create")
      if peek()?.isPunct("{") == true {
        let outer = pending
        pending = []
        try readChainBlock(t, declaration)
        let operations = pending
        pending = outer
        run(operations)
      } else {
        run([.chain(table: t, declaration)])
      }
    case "delete", "destroy":
      guard let existing else {
        if verb == "delete" {
          throw Diagnostic.error("\(label) does not exist in table \(tables[t].label)", at: name.location)
        }
        return
      }
      tables[t].removeChain(at: existing)
    case "flush", "rename":
      guard let existing else {
        throw Diagnostic.error("\(label) does not exist in table \(tables[t].label)", at: name.location)
      }
      if verb == "flush" {
        tables[t].chains[existing].entries = []
      } else {
        let newName = try expectName("the new chain name")
        tables[t].renameChain(at: existing, to: newName.text)
      }
    default:
      throw Diagnostic.error("'\(verb) chain' is not a chain command", at: name.location)
    }
  }

  /// A number after `handle`, `position` or `index`.
  mutating func number(_ expected: String) throws -> Int {
    let t = try expectWord(expected)
    guard let n = Int(t.text), n >= 0 else {
      throw Diagnostic.error("expected \(expected), found '\(t.source)'", at: t.location)
    }
    return n
  }

  mutating func ruleCommand(_ verb: String, _ object: NFTToken) throws {
    let (family, names) = try readIdentity(2)
    var position: (kind: String, value: Int, location: SourceLocation)?
    if let p = peek(), p.kind == .word, ["handle", "position", "index"].contains(p.text) {
      _ = next()
      position = (p.text, try number("a rule \(p.text == "index" ? "index" : "handle")"), p.location)
    }
    let tokens = try statementTokens()
    guard let t = try table(family, names[0]) else { return }
    guard let c = tables[t].chain(names[1].text) else {
      throw Diagnostic.error("chain \(names[1].text) does not exist in table \(tables[t].label)", at: names[1].location)
    }
    let placement: Placement
    switch (verb, position?.kind) {
    case ("add", nil): placement = .append
    case ("insert", nil): placement = .prepend
    case ("add", "index"): placement = .afterIndex(position!.value, position!.location)
    case ("insert", "index"): placement = .beforeIndex(position!.value, position!.location)
    case ("add", _): placement = .after(handle: position!.value, position!.location)
    case ("insert", _): placement = .before(handle: position!.value, position!.location)
    case ("replace", "handle"), ("replace", "position"):
      placement = .replace(handle: position!.value, position!.location)
    case ("delete", "handle"), ("destroy", "handle"):
      let before = tables[t].chains[c].entries.count
      tables[t].chains[c].entries.removeAll { $0.handle == position!.value }
      if verb == "delete" && tables[t].chains[c].entries.count == before {
        throw Diagnostic.error(
          "no rule with handle \(position!.value) in chain \(tables[t].label) \(names[1].text)", at: position!.location)
      }
      return
    default:
      throw Diagnostic.error(
        "'\(verb) rule' needs \(verb == "add" || verb == "insert" ? "a rule" : "'handle N'")", at: object.location)
    }
    guard !metUndefinedVariable else { return }
    guard let start = tokens.first else { throw Diagnostic.error("expected a rule", at: here()) }
    applyRule(t, c, RuleSource(tokens: tokens, location: start.location, handle: tokens.last?.handle), placement)
  }

  /// Reads a rule and puts it into its chain.
  mutating func applyRule(_ t: Int, _ c: Int, _ source: RuleSource, _ placement: Placement) {
    var reader = NFTRuleReader(tokens: source.tokens, context: tables[t].context)
    let rules = reader.read()
    diagnostics += reader.diagnostics
    guard !rules.isEmpty else { return }
    let chainLabel = "chain \(tables[t].label) \(tables[t].chains[c].name)"
    let references = reader.references
    func entry(_ handle: Int) -> NFTTableState.Entry {
      NFTTableState.Entry(handle: handle, rules: rules, references: references)
    }
    // In place: a chain of many rules must not be copied per rule.
    switch placement {
    case .append:
      let handle = tables[t].handle(source.handle)
      tables[t].chains[c].entries.append(entry(handle))
    case .prepend:
      let handle = tables[t].handle(source.handle)
      tables[t].chains[c].entries.insert(entry(handle), at: 0)
    case .after(let h, let location), .before(let h, let location), .replace(let h, let location):
      guard let k = tables[t].chains[c].entries.firstIndex(where: { $0.handle == h }) else {
        return error("no rule with handle \(h) in \(chainLabel)", at: location)
      }
      switch placement {
      case .after:
        let handle = tables[t].handle(source.handle)
        tables[t].chains[c].entries.insert(entry(handle), at: k + 1)
      case .before:
        let handle = tables[t].handle(source.handle)
        tables[t].chains[c].entries.insert(entry(handle), at: k)
      default: tables[t].chains[c].entries[k] = entry(h)
      }
    case .afterIndex(let i, let location), .beforeIndex(let i, let location):
      let count = tables[t].chains[c].entries.count
      guard i < count else {
        return error("no rule at index \(i) in \(chainLabel) (it has \(count))", at: location)
      }
      let handle = tables[t].handle(source.handle)
      if case .afterIndex = placement {
        tables[t].chains[c].entries.insert(entry(handle), at: i + 1)
      } else {
        tables[t].chains[c].entries.insert(entry(handle), at: i)
      }
    }
  }

  mutating func setCommand(_ verb: String, isMap: Bool) throws {
    let (family, names) = try readIdentity(2)
    let kind = isMap ? "map" : "set"
    guard let t = try table(family, names[0]) else { return try skipCommandBody() }
    let name = names[1]
    switch verb {
    case "add", "create":
      var declaration = SetDeclaration(name: name.text, isMap: isMap, location: name.location)
      if peek()?.isPunct("{") == true { declaration = try readSetBlock(name, isMap: isMap) }
      declaration.create = verb == "create"
      declareSet(t, declaration)
    case "delete", "destroy", "flush":
      guard tables[t].hasSetOrMap(name.text) else {
        if verb == "destroy" { return }
        throw Diagnostic.error("\(kind) \(name.text) does not exist in table \(tables[t].label)", at: name.location)
      }
      if verb == "flush" {
        if let s = tables[t].set(name.text) { tables[t].sets[s].set.elements = [] }
      } else {
        tables[t].removeSet(name.text)
      }
    default:
      throw Diagnostic.error("'\(verb) \(kind)' is not a \(kind) command", at: name.location)
    }
  }

  mutating func elementCommand(_ verb: String) throws {
    let (family, names) = try readIdentity(2)
    let tokens = try statementTokens()
    guard let t = try table(family, names[0]) else { return }
    let name = names[1]
    guard tables[t].hasSetOrMap(name.text) else {
      throw Diagnostic.error("set \(name.text) does not exist in table \(tables[t].label)", at: name.location)
    }
    guard !metUndefinedVariable else { return }
    switch verb {
    case "add", "create": addElements(t, name.text, tokens)
    case "delete", "destroy":
      guard let s = tables[t].set(name.text) else { return }
      switch try elements(tokens, tables[t].sets[s].set.type, t) {
      case .success(let gone): tables[t].sets[s].set.elements.removeAll { gone.contains($0) }
      case .failure: return
      }
    default:
      throw Diagnostic.error("'\(verb) element' is not an element command", at: name.location)
    }
  }

  /// Flowtables and stateful objects: kept out of the model with a warning.
  mutating func objectCommand(_ verb: String, _ kind: String) throws {
    let (family, names) = try readIdentity(2)
    let handle = try readObjectBody()
    guard let t = try table(family, names[0]) else { return }
    if verb == "add" || verb == "create" {
      keptOut(kind, t, names[1])
      _ = tables[t].handle(handle)
    }
  }
}
