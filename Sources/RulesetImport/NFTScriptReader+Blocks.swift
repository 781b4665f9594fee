import NetfilterModel

/// Table, chain and set blocks (`table ip filter { … }`), and the operations they expand to.
extension NFTScriptReader {
  /// A chain as a block or command declares it: the hook settings when it is a base chain.
  struct ChainDeclaration {
    var name: String
    var kind: Chain.Kind?
    var location: SourceLocation
    var handle: Int?
    /// `create chain`: an error when the chain exists.
    var create = false
  }

  /// A set or map as declared, read once its table's other sets are known.
  struct SetDeclaration {
    var name: String
    var isMap: Bool
    var location: SourceLocation
    var handle: Int?
    var typeWords: [String] = []
    var typeofWords: [String] = []
    var flags: [String] = []
    var elements: [NFTToken] = []
    var create = false
  }

  /// A rule's tokens, where it starts, and its `# handle N`.
  struct RuleSource {
    var tokens: [NFTToken]
    var location: SourceLocation
    var handle: Int?
  }

  /// What a block does, run in nft's order when the block closes: chains, then objects, then
  /// sets, then flowtables, then every chain's rules.
  enum PendingOperation {
    case chain(table: Int, ChainDeclaration)
    case object(table: Int, handle: Int?, phase: Int)
    case set(table: Int, SetDeclaration)
    case rule(table: Int, chain: String, RuleSource)

    var phase: Int {
      switch self {
      case .chain: return 0
      case .object(_, _, let phase): return phase
      case .set: return 2
      case .rule: return 4
      }
    }
  }

  /// The chain block being read: its hook settings and rules.
  struct ChainBuffer {
    var type: ChainType?
    var hook: Hook?
    var priority: Priority?
    var policy: ChainPolicy?
    var device: String?
    var specLocation: SourceLocation?
    var rules: [RuleSource] = []
  }

  mutating func run(_ operations: [PendingOperation]) {
    let ordered = operations.enumerated().sorted { ($0.element.phase, $0.offset) < ($1.element.phase, $1.offset) }
    for (_, op) in ordered {
      switch op {
      case .chain(let t, let declaration): declareChain(t, declaration)
      case .object(let t, let handle, _): _ = tables[t].handle(handle)
      case .set(let t, let declaration): declareSet(t, declaration)
      case .rule(let t, let chain, let source):
        guard let c = tables[t].chain(chain) else {
          error("chain \(chain) does not exist in table \(tables[t].label)", at: source.location)
          continue
        }
        applyRule(t, c, source, .append)
      }
    }
  }

  /// Reads `{ … }` of a table and runs what it declares.
  mutating func readTableBlock(_ t: Int) throws {
    let open = try expectPunct("{")
    let outer = pending
    pending = []
    scopes.append([:])
    let closed = readItems(.table(t))
    scopes.removeLast()
    let operations = pending
    pending = outer
    if !closed { error("expected '}' to close this table block", at: open.location) }
    run(operations)
  }

  mutating func readTableItem(_ t: Int) throws {
    let keyword = try expectWord("chain, set, map or another table item")
    switch keyword.text {
    case "chain":
      let name = try expectName("a chain name")
      if peek()?.isPunct("{") == true {
        try readChainBlock(t, ChainDeclaration(name: name.text, location: name.location))
      } else {
        pending.append(.chain(table: t, ChainDeclaration(name: name.text, location: name.location)))
      }
    case "set", "map":
      let name = try expectName("a \(keyword.text) name")
      pending.append(.set(table: t, try readSetBlock(name, isMap: keyword.text == "map")))
    case "flowtable", "ct", "counter", "quota", "limit", "secmark", "synproxy":
      let kind = keyword.text == "ct" ? "ct \(try expectWord("helper, timeout or expectation").text)" : keyword.text
      let name = try expectName("a \(kind) name")
      let handle = try readObjectBody()
      keptOut(kind, t, name)
      pending.append(.object(table: t, handle: handle, phase: keyword.text == "flowtable" ? 3 : 1))
    case "flags":
      let words = try statementTokens().filter { $0.kind == .word }.map(\.text)
      if words.contains("dormant") {
        tables[t].dormant = true
        warn(
          "table \(tables[t].label) is dormant: the kernel does not evaluate it, so it is not imported",
          at: keyword.location)
      }
    case "comment":
      _ = try expectName("a quoted comment")
    default:
      throw Diagnostic.error("unexpected '\(keyword.source)' in a table block", at: keyword.location)
    }
    try expectEnd()
  }

  /// The body of an object kept out of the model (`{ … }` or the rest of the statement); the
  /// handle its `{ # handle N` shows.
  mutating func readObjectBody() throws -> Int? {
    if peek()?.isPunct("{") == true {
      return try braceTokens().first?.handle
    }
    return try statementTokens().last?.handle
  }

  mutating func keptOut(_ kind: String, _ t: Int, _ name: NFTToken) {
    let what = kind == "flowtable" ? "flowtables (rules that use it keep 'flow add' as written)" : "\(kind) objects"
    warn("\(kind) \(tables[t].label) \(name.text) is not imported: the model has no \(what)", at: name.location)
  }

  // MARK: Chains

  /// Reads `{ … }` of a chain: hook settings and rules, queued as operations of the block.
  mutating func readChainBlock(_ t: Int, _ declaration: ChainDeclaration) throws {
    let open = try expectPunct("{")
    var declaration = declaration
    declaration.handle = open.handle
    let outerChain = chainBuffer
    chainBuffer = ChainBuffer()
    scopes.append([:])
    let closed = readItems(.chain(table: t, chain: declaration.name))
    scopes.removeLast()
    let buffer = chainBuffer!
    chainBuffer = outerChain
    if !closed { throw Diagnostic.error("expected '}' to close this chain block", at: open.location) }
    if let type = buffer.type {
      guard let hook = buffer.hook, let priority = buffer.priority else {
        throw Diagnostic.error("a base chain needs 'hook' and 'priority'", at: buffer.specLocation ?? open.location)
      }
      declaration.kind = .base(
        BaseChain(
          type: type, hook: hook, priority: priority, policy: buffer.policy ?? .accept, device: buffer.device,
          location: buffer.specLocation ?? open.location))
    } else if buffer.policy != nil {
      throw Diagnostic.error("a regular chain has no policy (it needs 'type … hook …')", at: open.location)
    }
    pending.append(.chain(table: t, declaration))
    for rule in buffer.rules { pending.append(.rule(table: t, chain: declaration.name, rule)) }
  }

  mutating func readChainItem(_ t: Int, _ chain: String) throws {
    let first = peek()!
    switch (first.kind, first.text) {
    case (.word, "type"):
      _ = next()
      try readHookSpec(at: first.location)
    case (.word, "policy"):
      _ = next()
      let p = try expectWord("accept or drop")
      guard let policy = ChainPolicy(rawValue: p.text) else {
        throw Diagnostic.error("unknown chain policy '\(p.source)' (accept or drop)", at: p.location)
      }
      chainBuffer?.policy = policy
    case (.word, "comment"):
      _ = next()
      _ = try expectName("a quoted comment")
    case (.word, "devices"), (.word, "flags"):
      _ = next()
      _ = try statementTokens()
    default:
      let tokens = try statementTokens()
      guard !metUndefinedVariable, let start = tokens.first else { return }
      chainBuffer?.rules.append(RuleSource(tokens: tokens, location: start.location, handle: tokens.last?.handle))
    }
    try expectEnd()
  }

  /// `type T hook H [device D | devices = { … }] priority P`, written at `location`.
  mutating func readHookSpec(at location: SourceLocation) throws {
    let typeToken = try expectWord("filter, nat or route")
    guard let type = ChainType(rawValue: typeToken.text) else {
      throw Diagnostic.error("unknown chain type '\(typeToken.source)' (filter, nat or route)", at: typeToken.location)
    }
    guard peekWord("hook") else { throw fail("'hook'") }
    _ = next()
    let hookToken = try expectWord("a hook")
    guard let hook = Hook(rawValue: hookToken.text) else {
      throw Diagnostic.error(
        "unknown hook '\(hookToken.source)' (prerouting, input, forward, output, postrouting or ingress)",
        at: hookToken.location)
    }
    var device: String?
    if peekWord("device") {
      _ = next()
      device = try expectName("a device name").text
    } else if peekWord("devices") {
      _ = next()
      _ = try expectPunct("=")
      _ = try braceTokens()
    }
    guard peekWord("priority") else { throw fail("'priority'") }
    _ = next()
    let priorityTokens = try statementTokens()
    guard let priority = Self.priority(priorityTokens) else {
      throw Diagnostic.error(
        "bad priority '\(priorityTokens.nftText)': a number or raw, mangle, dstnat, filter, security, srcnat (± a number)",
        at: priorityTokens.first?.location ?? hookToken.location)
    }
    chainBuffer?.type = type
    chainBuffer?.hook = hook
    chainBuffer?.priority = priority
    chainBuffer?.device = device
    chainBuffer?.specLocation = location
  }

  /// `-300`, `filter`, `filter + 10`, `mangle - 5`.
  static func priority(_ tokens: [NFTToken]) -> Priority? {
    let text = tokens.map(\.text).joined()
    if let n = Int(text) { return .number(n) }
    let name = text.prefix { $0.isLetter }
    guard let standard = Priority.Name(rawValue: String(name)) else { return nil }
    let rest = text.dropFirst(name.count)
    if rest.isEmpty { return Priority(name: standard) }
    guard let sign = rest.first, sign == "+" || sign == "-", let n = Int(rest.dropFirst()) else { return nil }
    return Priority(name: standard, offset: sign == "+" ? n : -n)
  }

  mutating func declareChain(_ t: Int, _ declaration: ChainDeclaration) {
    if let c = tables[t].chain(declaration.name) {
      if declaration.create {
        error(
          "chain \(declaration.name) already exists in table \(tables[t].label) (create refuses; add does not)",
          at: declaration.location)
      }
      if let kind = declaration.kind { tables[t].chains[c].kind = kind }
      return
    }
    let handle = tables[t].handle(declaration.handle)
    tables[t].addChain(
      NFTTableState.ChainState(
        name: declaration.name, kind: declaration.kind ?? .regular, location: declaration.location, handle: handle))
  }

  // MARK: Sets

  /// `{ type …; flags …; elements = { … } }` of a set or map.
  mutating func readSetBlock(_ name: NFTToken, isMap: Bool) throws -> SetDeclaration {
    let open = try expectPunct("{")
    var declaration = SetDeclaration(name: name.text, isMap: isMap, location: name.location, handle: open.handle)
    while true {
      guard let t = peek() else { throw Diagnostic.error("expected '}' to close this set block", at: open.location) }
      if t.isSeparator {
        _ = next()
        continue
      }
      if t.isPunct("}") {
        _ = next()
        return declaration
      }
      let keyword = try expectWord("type, flags, elements or another set property")
      switch keyword.text {
      case "type":
        declaration.typeWords = try statementTokens().map(\.text)
      case "typeof":
        declaration.typeofWords = try statementTokens().map(\.text)
      case "flags":
        declaration.flags = try statementTokens().filter { $0.kind == .word }.map(\.text)
      case "elements":
        _ = try expectPunct("=")
        declaration.elements = try statementTokens()
      case "timeout", "gc-interval", "size", "policy", "comment", "counter", "auto-merge", "devices":
        _ = try statementTokens()
      default:
        throw Diagnostic.error("unexpected '\(keyword.source)' in a set block", at: keyword.location)
      }
      try expectEnd()
    }
  }

  /// The element type of a set the model holds, from `type X` or `typeof EXPRESSION`.
  static func setType(_ declaration: SetDeclaration) -> SetType? {
    if declaration.typeWords.count == 1 { return SetType(rawValue: declaration.typeWords[0]) }
    var words = declaration.typeofWords
    if words.first == "meta", words.count == 2, words[1] == "iifname" || words[1] == "oifname" { words.removeFirst() }
    switch words {
    case ["ip", "saddr"], ["ip", "daddr"]: return .ipv4Address
    case ["ip6", "saddr"], ["ip6", "daddr"]: return .ipv6Address
    case ["meta", "l4proto"], ["ip", "protocol"], ["ip6", "nexthdr"]: return .inetProto
    case ["iifname"], ["oifname"]: return .interfaceName
    case ["ether", "saddr"], ["ether", "daddr"]: return .etherAddress
    default:
      if words.count == 2, ["tcp", "udp", "th", "udplite", "sctp", "dccp"].contains(words[0]),
        words[1] == "sport" || words[1] == "dport"
      {
        return .inetService
      }
      return nil
    }
  }

  /// The elements of a set literal, or the first one that is not of the set's type.
  enum Elements {
    case success([SetElement])
    case failure(NFTValue)
  }

  /// The model elements of `{ … }` for a set of `type`, or the element that is not of that type.
  func elements(_ tokens: [NFTToken], _ type: SetType, _ t: Int) throws -> Elements {
    guard !tokens.isEmpty else { return .success([]) }
    var reader = NFTRuleReader(tokens: tokens, context: tables[t].context)
    let value = try reader.readValue(inSet: false)
    if let extra = reader.peek {
      throw Diagnostic.error("unexpected '\(extra.source)' after the elements", at: extra.location)
    }
    var result: [SetElement] = []
    for element in value.setElements ?? [value] {
      guard let converted = Self.element(element, type) else { return .failure(element) }
      result.append(converted)
    }
    return .success(result)
  }

  static func element(_ value: NFTValue, _ type: SetType) -> SetElement? {
    switch type {
    case .ipv4Address, .ipv6Address:
      guard let a = NFTValues.address(value), a.version == (type == .ipv4Address ? .v4 : .v6) else { return nil }
      return .address(a)
    case .inetService: return NFTValues.port(value).map { .port($0) }
    case .inetProto: return NFTValues.proto(value).map { .proto($0) }
    case .interfaceName: return NFTValues.interface(value).map { .interface($0) }
    case .etherAddress: return NFTValues.mac(value).map { .ether($0) }
    }
  }

  mutating func declareSet(_ t: Int, _ declaration: SetDeclaration) {
    let label = "\(declaration.isMap ? "map" : "set") \(tables[t].label) \(declaration.name)"
    if tables[t].hasSetOrMap(declaration.name) {
      if declaration.create {
        error("\(label) already exists (create refuses; add does not)", at: declaration.location)
        return
      }
      addElements(t, declaration.name, declaration.elements)
      return
    }
    let handle = tables[t].handle(declaration.handle)
    if declaration.isMap {
      tables[t].context.unmodelled.insert(declaration.name)
      warn(
        "\(label) is not imported: the model has no maps (rules that use it keep it as written)",
        at: declaration.location)
      return
    }
    guard let type = Self.setType(declaration) else {
      tables[t].context.unmodelled.insert(declaration.name)
      let written =
        declaration.typeWords.isEmpty
        ? "typeof " + declaration.typeofWords.joined(separator: " ")
        : declaration.typeWords.joined(separator: " ")
      warn(
        "\(label) is not imported: its type '\(written)' is not modelled (rules that use it keep it as written)",
        at: declaration.location)
      return
    }
    do {
      switch try elements(declaration.elements, type, t) {
      case .success(let elements):
        tables[t].addSet(
          NamedSet(name: declaration.name, type: type, elements: elements, location: declaration.location),
          handle: handle)
        if declaration.flags.contains("dynamic") || declaration.flags.contains("timeout") {
          warn(
            "\(label) has flags \(declaration.flags.joined(separator: ",")): its elements change at run time; the model holds the ones listed",
            at: declaration.location)
        }
      case .failure(let bad):
        tables[t].context.unmodelled.insert(declaration.name)
        warn(
          "\(label) is not imported: element '\(bad.firstToken?.source ?? "?")' is not modelled as a \(type.rawValue) (rules that use it keep it as written)",
          at: bad.firstToken?.location ?? declaration.location)
      }
    } catch let d as Diagnostic {
      diagnostics.append(d)
    } catch {}
  }

  /// `add element`, or `add set` of a set that exists: its elements join the set.
  mutating func addElements(_ t: Int, _ name: String, _ tokens: [NFTToken]) {
    guard let s = tables[t].set(name) else { return }
    do {
      switch try elements(tokens, tables[t].sets[s].set.type, t) {
      case .success(let new):
        for e in new where !tables[t].sets[s].set.elements.contains(e) { tables[t].sets[s].set.elements.append(e) }
      case .failure(let bad):
        error(
          "element '\(bad.firstToken?.source ?? "?")' is not a \(tables[t].sets[s].set.type.rawValue)",
          at: bad.firstToken?.location ?? here())
      }
    } catch let d as Diagnostic {
      diagnostics.append(d)
    } catch {}
  }
}
