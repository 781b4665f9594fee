import NetfilterModel

/// What the engine knows of the opaque (iptables and nft) targets it lets evaluation continue past: the
/// few effects on what later rules see, so a later rule is never judged on a stale packet.
extension OpaqueTarget {
  /// `-j NOTRACK`, `-j CT --notrack`, nft's `notrack`: the packet's conntrack state becomes UNTRACKED (so NAT is
  /// skipped and `--state UNTRACKED` matches), as `nf_ct_set(skb, NULL, IP_CT_UNTRACKED)` does.
  var untracks: Bool {
    switch syntax {
    case .iptables: return name == "NOTRACK" || (name == "CT" && text.split(separator: " ").contains("--notrack"))
    case .nft: return text == "notrack"
    case .nftJSON: return text == #"{"notrack":null}"#
    }
  }

  /// Targets that may rewrite the packet mark in a way the model cannot follow (`MARK` with a
  /// partial mask or `--and-mark`, `HMARK`, `CONNMARK --restore-mark`): later mark tests are
  /// unknown.
  var mayChangeMark: Bool {
    // nft: `meta mark set ct mark`, `mark set mark | 0x10` (a constant is `Statement.setMark`).
    if syntax == .nft { return text.hasPrefix("meta mark set") || text.hasPrefix("mark set") }
    return name == "MARK" || name == "HMARK"
      || (name == "CONNMARK" && text.split(separator: " ").contains("--restore-mark"))
  }

  /// Targets that may rewrite the connection's mark in a way the model cannot follow
  /// (`CONNMARK` with partial masks or shifts, nft's `ct mark set mark | 0x10`): later `ct mark`
  /// tests are unknown.
  var mayChangeCTMark: Bool {
    if syntax == .nft { return text.hasPrefix("ct mark set") }
    return name == "CONNMARK" && !text.split(separator: " ").contains("--restore-mark")
  }
}
