import NetfilterModel

/// The result of an import: the ruleset and every warning and error, each at its file:line:col.
public struct ImportedRuleset: Sendable {
  /// The tables read (with errors, the tables and rules that could be read).
  public var ruleset: Ruleset
  public var diagnostics: [Diagnostic]
  public init(ruleset: Ruleset, diagnostics: [Diagnostic]) {
    self.ruleset = ruleset
    self.diagnostics = diagnostics
  }
  /// True when some line could not be read at all.
  public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
  /// The warnings: what was kept opaque or ignored.
  public var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }
  /// The errors: what could not be parsed.
  public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
}

/// Reads `iptables-save` / `ip6tables-save` output into the model.
///
/// Equivalent to what `iptables-restore` reads: each `*table … COMMIT` block becomes a table of
/// family `ip` (or `ip6`) named like the iptables table; builtin chains become base chains on
/// their hook at the iptables priority (raw −300, mangle −150, nat −100/100, filter 0,
/// security 50) with their policy; user chains become regular chains; rules keep their order.
/// Matches and targets the model cannot express exactly are kept opaque (as written) with a
/// warning, never dropped or widened. Counters are ignored.
public struct IPTablesSaveImporter: Sendable {
  /// `.ip` or `.ip6`; nil detects it from the dump's addresses.
  public var family: Family?

  /// An importer; `family` nil detects IPv4 or IPv6 from the addresses.
  public init(family: Family? = nil) {
    self.family = family
  }

  /// Imports `text`; locations name `file`.
  public func importRuleset(_ text: String, file: String) -> ImportedRuleset {
    var reader = SaveReader(file: file, family: family ?? Self.detectFamily(text))
    reader.read(text)
    return ImportedRuleset(ruleset: Ruleset(tables: reader.tables), diagnostics: reader.diagnostics)
  }

  /// `ip6` when the dump's addresses are IPv6 (or, with no address at all, when it uses icmpv6
  /// or `icmp6-` reject types), else `ip`.
  public static func detectFamily(_ text: String) -> Family {
    let addressOptions: Set<String> = [
      "-s", "-d", "--source", "--destination", "--src", "--dst", "--src-range", "--dst-range", "--to-destination",
      "--to-source",
    ]
    var v4 = 0
    var v6 = 0
    var hints = 0
    for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("-A") || line.hasPrefix("--append") {
      guard case .success(let tokens) = SaveLineTokenizer.tokenize(String(line)) else { continue }
      for (k, token) in tokens.enumerated() {
        if token.text == "icmpv6" || token.text == "ipv6-icmp" || token.text.hasPrefix("icmp6-") { hints += 1 }
        guard addressOptions.contains(token.text) else { continue }
        var next = k + 1
        if next < tokens.count && tokens[next].isBang { next += 1 }
        guard next < tokens.count else { continue }
        let value = tokens[next].text
        let first = value.split(separator: "/").first.map(String.init) ?? value
        let head = first.split(separator: "-").first.map(String.init) ?? first
        let bare = head.hasPrefix("[") ? String(head.dropFirst().prefix { $0 != "]" }) : head
        if let a = IPAddress(bare) { if a.version == .v4 { v4 += 1 } else { v6 += 1 } }
        if bare.contains(":") && IPAddress(bare) == nil && bare.filter({ $0 == ":" }).count > 1 { v6 += 1 }
      }
    }
    if v4 > 0 || v6 > 0 { return v6 > v4 ? .ip6 : .ip }
    return hints > 0 ? .ip6 : .ip
  }
}

/// The builtin chains of the iptables tables: hook and priority (`NF_IP_PRI_*`).
enum IPTablesTables {
  static let hooks: [String: [Hook]] = [
    "raw": [.prerouting, .output],
    "mangle": [.prerouting, .input, .forward, .output, .postrouting],
    "nat": [.prerouting, .input, .output, .postrouting],
    "filter": [.input, .forward, .output],
    "security": [.input, .forward, .output],
  ]

  static func priority(_ table: String, _ hook: Hook) -> Priority {
    switch table {
    case "raw": return Priority(name: .raw)
    case "mangle": return Priority(name: .mangle)
    case "nat": return hook == .prerouting || hook == .output ? .number(-100) : .number(100)
    case "security": return Priority(name: .security)
    default: return Priority(name: .filter)
    }
  }

  static func hook(_ chain: String) -> Hook? {
    Hook.allCases.first { $0 != .ingress && $0.builtinChainName == chain }
  }
}
