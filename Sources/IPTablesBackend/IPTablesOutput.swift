import NetfilterModel

/// The compiled iptables text of one namespace: `iptables-restore` and `ip6tables-restore` input.
///
/// Each text is exactly what `iptables-save` prints back after loading it (minus the
/// `# Generated`/`# Completed` comment lines), so a listing can be compared with it table by table.
public struct IPTablesOutput: Equatable, Sendable {
  /// `iptables-restore` input; nil when no table needs IPv4.
  public var ipv4: String?
  /// `ip6tables-restore` input; nil when no table needs IPv6.
  public var ipv6: String?

  /// Creates an output from the per-version texts.
  public init(ipv4: String?, ipv6: String?) {
    self.ipv4 = ipv4
    self.ipv6 = ipv6
  }

  /// The header line that opens the IPv4 section of `combined`.
  public static let ipv4Header = "# --- iptables-restore (IPv4) ---"
  /// The header line that opens the IPv6 section of `combined`.
  public static let ipv6Header = "# --- ip6tables-restore (IPv6) ---"

  /// Both texts as one, each section opened by its header line (`#` lines are comments to
  /// `iptables-restore`); empty when there is neither.
  public var combined: String {
    var sections: [String] = []
    if let ipv4 { sections.append(IPTablesOutput.ipv4Header + "\n" + ipv4) }
    if let ipv6 { sections.append(IPTablesOutput.ipv6Header + "\n" + ipv6) }
    return sections.joined(separator: "\n")
  }
}
