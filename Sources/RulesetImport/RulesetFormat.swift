import NetfilterModel

/// The text formats a dumped ruleset comes in.
public enum RulesetFormat: String, Hashable, Sendable, CaseIterable {
  /// `iptables-save` output (IPv4 tables, family `ip`).
  case iptablesSave = "iptables-save"
  /// `ip6tables-save` output (family `ip6`).
  case ip6tablesSave = "ip6tables-save"
  /// `nft list ruleset` output or an `nft -f` script (not imported yet).
  case nft
  /// `nft -j list ruleset` output (see `NFTJSONImporter`).
  case nftJSON = "nft-json"

  /// The format `text` looks like: JSON for `{`, iptables-save for a `*table` line, nft for a
  /// `table` or `define` line; nil when nothing fits. An iptables dump is told apart from an
  /// ip6tables one by its addresses (see `IPTablesSaveImporter.detectFamily`).
  public static func detect(_ text: String) -> RulesetFormat? {
    for raw in text.split(whereSeparator: \.isNewline) {
      let line = raw.drop { $0 == " " || $0 == "\t" }
      if line.hasPrefix("{") { return .nftJSON }
      if line.hasPrefix("*") {
        return IPTablesSaveImporter.detectFamily(text) == .ip6 ? .ip6tablesSave : .iptablesSave
      }
      if line.hasPrefix("table ") || line.hasPrefix("define ") || line.hasPrefix("flush ruleset") { return .nft }
    }
    return nil
  }
}
