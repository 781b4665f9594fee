import NetfilterModel

/// The text formats a dumped ruleset comes in.
public enum RulesetFormat: String, Hashable, Sendable, CaseIterable {
  /// `iptables-save` output (IPv4 tables, family `ip`).
  case iptablesSave = "iptables-save"
  /// `ip6tables-save` output (family `ip6`).
  case ip6tablesSave = "ip6tables-save"
  /// `nft list ruleset` output or an `nft -f` script (see `NFTTextImporter`).
  case nft
  /// `nft -j list ruleset` output (see `NFTJSONImporter`).
  case nftJSON = "nft-json"

  /// The format `text` looks like, from its first line that tells (blank lines, `#` comments and
  /// free text are passed over): JSON for `{`, iptables-save for a `*table` line, nft for a line
  /// that starts with an nft command (`table`, `add table`, `flush ruleset`, `define`, `include`,
  /// …); nil when nothing fits. An
  /// iptables dump is told apart from an ip6tables one by its addresses (see
  /// `IPTablesSaveImporter.detectFamily`).
  public static func detect(_ text: String) -> RulesetFormat? {
    for raw in text.split(whereSeparator: \.isNewline) {
      let line = raw.drop { $0 == " " || $0 == "\t" }
      if line.isEmpty || line.hasPrefix("#") { continue }
      if line.hasPrefix("{") { return .nftJSON }
      if line.hasPrefix("*") {
        return IPTablesSaveImporter.detectFamily(text) == .ip6 ? .ip6tablesSave : .iptablesSave
      }
      let word = line.prefix { !($0 == " " || $0 == "\t" || $0 == ";") }
      if nftCommands.contains(String(word)) { return .nft }
    }
    return nil
  }

  /// The words an nft script's commands start with.
  static let nftCommands: Set<String> = [
    "table", "chain", "rule", "set", "map", "element", "flowtable", "define", "redefine", "undefine", "include",
    "add", "create", "insert", "replace", "delete", "destroy", "flush", "rename",
  ]
}
