import NetfilterModel

/// Reads nft text (a listing or an `nft -f` script) command by command into table states, as
/// `nft -f` would apply it: variables are expanded as tokens are read (`define`, `redefine`,
/// `undefine`, scoped to the table and chain blocks they are written in), `include` reads other
/// files in place, and each command changes the tables in order. A table or chain block runs as
/// nft expands it: its chains first, then its objects and sets, then the rules.
struct NFTScriptReader {
  let files: NFTIncludeFiles
  var diagnostics: [Diagnostic] = []
  var tables: [NFTTableState] = []
  /// Tables of families the model does not import (`family name`): their commands are skipped.
  var skippedTables: Set<String> = []

  // The token source: the current file's tokens and the expanded lookahead.
  var tokens: [NFTToken] = []
  var index = 0
  var lookahead: [NFTToken] = []
  var head = 0
  /// Tokens taken so far (a failed statement must take at least one).
  var consumed = 0
  var file: String
  /// The files being read, outermost first (an include of one of them is a cycle).
  var fileStack: [String] = []
  /// Variables by name, innermost scope last.
  var scopes: [[String: [NFTToken]]] = [[:]]
  /// Counts references to undefined variables: a statement that met one is not applied.
  var undefinedVariables = 0
  /// `undefinedVariables` when the current statement started.
  var undefinedAtStatement = 0
  /// The block being read, whose operations run when it closes.
  var pending: [PendingOperation] = []
  /// The chain block being read.
  var chainBuffer: ChainBuffer?

  init(files: NFTIncludeFiles, file: String) {
    self.files = files
    self.file = file
  }

  static let families: Set<String> = ["ip", "ip6", "inet", "arp", "bridge", "netdev"]
  /// nft's limit on nested includes.
  static let maximumIncludeDepth = 16

  // MARK: Reading

  mutating func read(_ text: String) {
    let (lexed, problems) = NFTLexer.tokenize(text, file: file)
    diagnostics += problems
    tokens = lexed
    fileStack = [file]
    readItems(.top)
    checkReferences()
  }

  /// The imported tables (dormant ones, which the kernel does not evaluate, are left out).
  var ruleset: Ruleset { Ruleset(tables: tables.filter { !$0.dormant }.map(\.table)) }

  // MARK: Tokens

  /// Makes sure `k + 1` tokens are ahead, expanding `$name` as it meets one.
  mutating func fill(_ k: Int) -> Bool {
    while lookahead.count - head <= k {
      guard index < tokens.count else { return false }
      let t = tokens[index]
      index += 1
      guard t.kind == .word, t.text.count > 1, t.text.hasPrefix("$") else {
        lookahead.append(t)
        continue
      }
      let name = String(t.text.dropFirst())
      guard let value = lookup(name) else {
        diagnostics.append(.error("undefined variable '$\(name)'", at: t.location))
        undefinedVariables += 1
        lookahead.append(t)
        continue
      }
      for (n, v) in value.enumerated() {
        var copy = v
        copy.location = t.location
        if n == 0 { copy.spaceBefore = t.spaceBefore }
        if n == value.count - 1 { copy.handle = t.handle }
        lookahead.append(copy)
      }
    }
    return true
  }

  mutating func peek(_ k: Int = 0) -> NFTToken? { fill(k) ? lookahead[head + k] : nil }

  mutating func next() -> NFTToken? {
    guard fill(0) else { return nil }
    let t = lookahead[head]
    head += 1
    consumed += 1
    if head > 64 && head * 2 > lookahead.count {
      lookahead.removeFirst(head)
      head = 0
    }
    return t
  }

  mutating func peekWord(_ word: String) -> Bool { peek()?.isWord(word) == true }

  /// Where the next token is (or the end of the file).
  mutating func here() -> SourceLocation {
    peek()?.location ?? tokens.last?.location ?? SourceLocation(file: file, line: 1, column: 1)
  }

  /// Whether the current statement named an undefined variable (it is then not applied).
  var metUndefinedVariable: Bool { undefinedVariables != undefinedAtStatement }

  func lookup(_ name: String) -> [NFTToken]? {
    for scope in scopes.reversed() { if let v = scope[name] { return v } }
    return nil
  }

  mutating func error(_ message: String, at location: SourceLocation) {
    diagnostics.append(.error(message, at: location))
  }

  mutating func warn(_ message: String, at location: SourceLocation) {
    diagnostics.append(Diagnostic(.warning, message, at: location))
  }

  /// A located error for the next token.
  mutating func fail(_ expected: String) -> Diagnostic {
    guard let t = peek() else { return .error("expected \(expected) at the end of the file", at: here()) }
    if t.kind == .newline { return .error("expected \(expected) at the end of the line", at: t.location) }
    return .error("expected \(expected), found '\(t.source)'", at: t.location)
  }

  mutating func expectWord(_ expected: String) throws -> NFTToken {
    guard let t = peek(), t.kind == .word else { throw fail(expected) }
    return next()!
  }

  /// A name: a word or a quoted string.
  mutating func expectName(_ expected: String) throws -> NFTToken {
    guard let t = peek(), t.kind == .word || t.kind == .string else { throw fail(expected) }
    return next()!
  }

  mutating func expectPunct(_ punct: String) throws -> NFTToken {
    guard let t = peek(), t.isPunct(punct) else { throw fail("'\(punct)'") }
    return next()!
  }

  /// The end of a statement: a separator (consumed), a closing brace or the end of the file.
  mutating func expectEnd() throws {
    guard let t = peek() else { return }
    if t.isSeparator {
      _ = next()
      return
    }
    if t.isPunct("}") { return }
    throw fail("the end of the statement")
  }

  /// Skips the rest of a statement after an error: up to a separator or closing brace outside
  /// the braces it opened.
  mutating func skipStatement() {
    var depth = 0
    while let t = peek() {
      if depth == 0 && t.isSeparator {
        _ = next()
        return
      }
      if t.isPunct("{") || t.isPunct("(") { depth += 1 }
      if t.isPunct("}") || t.isPunct(")") {
        // A closing brace at this level ends the block the statement is in.
        if depth == 0 && t.isPunct("}") { return }
        depth = max(depth - 1, 0)
      }
      _ = next()
    }
  }

  /// The tokens up to the end of the statement (not consumed), over braces and parentheses;
  /// line breaks inside braces are kept out.
  mutating func statementTokens() throws -> [NFTToken] {
    var result: [NFTToken] = []
    var stack: [NFTToken] = []
    while let t = peek() {
      if stack.isEmpty && (t.isSeparator || t.isPunct("}")) { break }
      _ = next()
      if t.isPunct("{") || t.isPunct("(") { stack.append(t) }
      if t.isPunct("}") || t.isPunct(")") {
        guard stack.popLast() != nil else { throw Diagnostic.error("unexpected '\(t.text)'", at: t.location) }
      }
      if t.kind != .newline { result.append(t) }
    }
    if let open = stack.last {
      throw Diagnostic.error(
        "expected '\(open.text == "{" ? "}" : ")")' to close this '\(open.text)'", at: open.location)
    }
    return result
  }

  /// `{ … }` with its contents (skipped tables and objects, set literals read later).
  mutating func braceTokens() throws -> [NFTToken] {
    let open = try expectPunct("{")
    var result = [open]
    var depth = 1
    while depth > 0 {
      guard let t = next() else { throw Diagnostic.error("expected '}' to close this '{'", at: open.location) }
      if t.isPunct("{") { depth += 1 }
      if t.isPunct("}") { depth -= 1 }
      result.append(t)
    }
    return result
  }

  // MARK: Items

  /// Where items are read: the top level (commands), a table block, or a chain block.
  enum Context {
    case top
    case table(Int)
    case chain(table: Int, chain: String)
  }

  /// Reads items up to the end of the file (or the `}` closing a block, consumed); true when
  /// the block was closed.
  @discardableResult
  mutating func readItems(_ context: Context) -> Bool {
    while let t = peek() {
      if t.isSeparator {
        _ = next()
        continue
      }
      if t.isPunct("}") {
        _ = next()
        if case .top = context {
          error("unexpected '}'", at: t.location)
          continue
        }
        return true
      }
      undefinedAtStatement = undefinedVariables
      let consumedBefore = consumed
      do {
        switch (t.kind, t.text) {
        case (.word, "define"), (.word, "redefine"): try readDefine()
        case (.word, "undefine"): try readUndefine()
        case (.word, "include"): try readInclude(context)
        default:
          switch context {
          case .top: try readCommand()
          case .table(let table): try readTableItem(table)
          case .chain(let table, let chain): try readChainItem(table, chain)
          }
        }
      } catch let d as Diagnostic {
        diagnostics.append(d)
        skipStatement()
      } catch {
        self.error("\(error)", at: t.location)
        skipStatement()
      }
      // A statement that failed on its first token still moves on.
      if consumed == consumedBefore { _ = next() }
    }
    return false
  }

  /// `define NAME = VALUE`, `redefine NAME = VALUE`: the value's tokens, variables in it
  /// expanded now (as nft binds them when it reads the definition).
  mutating func readDefine() throws {
    let keyword = next()!
    let name = try expectWord("a variable name")
    _ = try expectPunct("=")
    let value = try statementTokens()
    guard !value.isEmpty else {
      throw Diagnostic.error("'\(keyword.text) \(name.text)' has no value", at: name.location)
    }
    if keyword.text == "define", scopes[scopes.count - 1][name.text] != nil {
      throw Diagnostic.error("'\(name.text)' is already defined in this scope; use redefine", at: name.location)
    }
    try expectEnd()
    guard !metUndefinedVariable else { return }
    scopes[scopes.count - 1][name.text] = value
  }

  mutating func readUndefine() throws {
    _ = next()
    let name = try expectWord("a variable name")
    guard scopes[scopes.count - 1].removeValue(forKey: name.text) != nil else {
      throw Diagnostic.error("undefined variable '\(name.text)'", at: name.location)
    }
    try expectEnd()
  }

  // MARK: Include

  /// `include "FILE"`: the file (relative to the including file's directory) read in place; a
  /// glob pattern includes the files it matches, in order, and may match none (as in nft).
  mutating func readInclude(_ context: Context) throws {
    _ = next()
    let pathToken = try expectName("a quoted file name")
    // Errors come before the end is consumed, so recovery skips this statement and not the next.
    let path = Self.resolve(pathToken.text, relativeTo: file)
    var paths = [path]
    if NFTGlob.isPattern(path) {
      paths = NFTGlob.expand(path, files: files)
    } else if files.read(path) == nil {
      throw Diagnostic.error("cannot read include file '\(path)'", at: pathToken.location)
    }
    for path in paths where fileStack.contains(path) {
      throw Diagnostic.error("include cycle: '\(path)' includes itself", at: pathToken.location)
    }
    guard fileStack.count < Self.maximumIncludeDepth else {
      throw Diagnostic.error("includes nested more than \(Self.maximumIncludeDepth) deep", at: pathToken.location)
    }
    try expectEnd()
    for path in paths {
      guard let text = files.read(path) else {
        error("cannot read include file '\(path)'", at: pathToken.location)
        continue
      }
      let saved = (tokens, index, lookahead, head, file)
      let (lexed, problems) = NFTLexer.tokenize(text, file: path)
      diagnostics += problems
      (tokens, index, lookahead, head, file) = (lexed, 0, [], 0, path)
      fileStack.append(path)
      if readItems(context) {
        error("unexpected '}': a block cannot end in an included file", at: here())
      }
      fileStack.removeLast()
      (tokens, index, lookahead, head, file) = saved
    }
  }

  /// `path` relative to the directory of `file` (absolute paths as they are).
  static func resolve(_ path: String, relativeTo file: String) -> String {
    guard !path.hasPrefix("/"), let slash = file.lastIndex(of: "/") else { return path }
    return String(file[...slash]) + path
  }

  // MARK: Finishing

  /// Errors for `jump` and `goto` to chains their table does not have.
  mutating func checkReferences() {
    for table in tables {
      for chain in table.chains {
        for entry in chain.entries {
          for (target, location) in entry.references where table.chain(target) == nil {
            error("jump to chain '\(target)', which table \(table.label) does not have", at: location)
          }
        }
      }
    }
  }
}
