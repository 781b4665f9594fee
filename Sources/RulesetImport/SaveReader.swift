import NetfilterModel

/// Reads the lines of an iptables-save dump: tables, chain lines, rules, COMMIT; everything else
/// is ignored with a warning (free text before the dump) or reported as an error at its place.
struct SaveReader {
  let file: String
  let family: Family
  var version: IPVersion { family == .ip6 ? .v6 : .v4 }
  var tables: [Table] = []
  var diagnostics: [Diagnostic] = []
  /// The table being read (between `*name` and `COMMIT`) and its user chain names.
  var table: Table?
  var line = 0
  /// The current line's bytes (an opaque match keeps its text as written).
  var bytes: [UInt8] = []
  var warnedFreeText = false

  init(file: String, family: Family) {
    self.file = file
    self.family = family
  }

  func location(_ column: Int) -> SourceLocation { SourceLocation(file: file, line: line, column: column) }

  mutating func warn(_ message: String, _ column: Int) {
    diagnostics.append(Diagnostic(.warning, message, at: location(column)))
  }

  mutating func error(_ message: String, _ column: Int) {
    diagnostics.append(.error(message, at: location(column)))
  }

  /// The line's text between two byte offsets.
  func text(_ start: Int, _ end: Int) -> String { String(decoding: bytes[start..<end], as: UTF8.self) }

  mutating func read(_ text: String) {
    for raw in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
      line += 1
      let content = String(raw)
      bytes = Array(content.utf8)
      let indent = content.prefix { $0 == " " || $0 == "\t" }.utf8.count
      let trimmed = content.drop { $0 == " " || $0 == "\t" }
      if trimmed.allSatisfy({ $0.isWhitespace }) || trimmed.hasPrefix("#") { continue }
      let column = indent + 1
      if trimmed.hasPrefix("*") {
        if let open = table {
          warn("table \(open.name) has no COMMIT before the next table; taken as committed", column)
          tables.append(open)
        }
        let name = String(trimmed.dropFirst()).trimmingTrailingBlanks()
        guard IPTablesTables.hooks[name] != nil else {
          error("unknown iptables table '\(name)' (only filter, nat, mangle, raw, security)", column + 1)
          table = nil
          continue
        }
        table = Table(family: family, name: name, location: location(column))
        continue
      }
      guard table != nil else {
        if !warnedFreeText {
          warn("text outside a '*table … COMMIT' block is ignored", column)
          warnedFreeText = true
        }
        continue
      }
      if trimmed.trimmingTrailingBlanks() == "COMMIT" {
        tables.append(table!)
        table = nil
        continue
      }
      if trimmed.hasPrefix(":") {
        readChainLine(String(trimmed.dropFirst()), column: column)
        continue
      }
      let words: [SaveToken]
      switch SaveLineTokenizer.tokenize(content) {
      case .failure(let q):
        error("unterminated quote", q.column)
        continue
      case .success(let t): words = t
      }
      // `iptables-save -c` puts the rule's counters first: `[5:300] -A INPUT …` (ignored).
      let tokens =
        words.first.map { $0.text.hasPrefix("[") && $0.text.hasSuffix("]") } == true ? Array(words.dropFirst()) : words
      guard let command = tokens.first else { continue }
      switch command.text {
      case "-A", "--append":
        readRule(tokens)
      case "-N", "--new-chain":
        if tokens.count >= 2 { declare(tokens[1].text, policy: nil, column: tokens[1].column) }
      default:
        error("expected '-A CHAIN …', ':CHAIN POLICY [n:m]' or COMMIT, not '\(command.text)'", command.column)
      }
    }
    if let open = table {
      diagnostics.append(
        Diagnostic(
          .warning, "table \(open.name) has no COMMIT at the end of the file; taken as committed", at: open.location))
      tables.append(open)
      table = nil
    }
  }

  /// `:INPUT DROP [0:0]` or `:user - [0:0]`.
  mutating func readChainLine(_ rest: String, column: Int) {
    let parts = rest.split(whereSeparator: { $0.isWhitespace }).map(String.init)
    guard let name = parts.first, !name.isEmpty else {
      error("expected a chain name after ':'", column + 1)
      return
    }
    let policyText = parts.count > 1 ? parts[1] : "-"
    let policy: ChainPolicy?
    switch policyText {
    case "ACCEPT": policy = .accept
    case "DROP": policy = .drop
    case "-": policy = nil
    default:
      error("unknown chain policy '\(policyText)' (ACCEPT, DROP or -)", column + 1 + name.utf8.count + 1)
      return
    }
    declare(name, policy: policy, column: column)
  }

  mutating func declare(_ name: String, policy: ChainPolicy?, column: Int) {
    guard var t = table else { return }
    if t.chain(name) != nil {
      error("chain '\(name)' is declared twice in table \(t.name)", column)
      return
    }
    let hooks = IPTablesTables.hooks[t.name] ?? []
    if let hook = IPTablesTables.hook(name), hooks.contains(hook) {
      let base = BaseChain(
        type: t.name == "nat" ? .nat : .filter, hook: hook, priority: IPTablesTables.priority(t.name, hook),
        policy: policy ?? .accept, location: location(column))
      t.chains.append(Chain(name: name, kind: .base(base), location: location(column)))
    } else {
      if policy != nil { warn("user chain '\(name)' cannot have a policy; ignored", column) }
      t.chains.append(Chain(name: name, kind: .regular, location: location(column)))
    }
    table = t
  }
}

extension StringProtocol {
  func trimmingTrailingBlanks() -> String {
    var s = String(self)
    while let last = s.last, last.isWhitespace { s.removeLast() }
    return s
  }
}
