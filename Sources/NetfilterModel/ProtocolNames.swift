/// The names nft and iptables use for protocol numbers, ICMP types and codes.
public enum ProtocolNames {
  /// IP protocol numbers with their names from `/etc/protocols` (Debian netbase), as
  /// `getprotobynumber` answers: nft and `iptables-save` both print `-p`/`l4proto` this way.
  public static let ipProtocols: [(String, UInt8)] = [
    ("icmp", 1), ("igmp", 2), ("ggp", 3), ("ipencap", 4), ("st", 5), ("tcp", 6), ("egp", 8), ("igp", 9), ("pup", 12),
    ("udp", 17), ("hmp", 20), ("xns-idp", 22), ("rdp", 27), ("iso-tp4", 29), ("dccp", 33), ("xtp", 36), ("ddp", 37),
    ("idpr-cmtp", 38), ("ipv6", 41), ("ipv6-route", 43), ("ipv6-frag", 44), ("idrp", 45), ("rsvp", 46), ("gre", 47),
    ("esp", 50), ("ah", 51), ("skip", 57), ("ipv6-icmp", 58), ("ipv6-nonxt", 59), ("ipv6-opts", 60), ("rspf", 73),
    ("vmtp", 81), ("eigrp", 88), ("ospf", 89), ("ax.25", 93), ("ipip", 94), ("etherip", 97), ("encap", 98),
    ("pim", 103), ("ipcomp", 108), ("vrrp", 112), ("l2tp", 115), ("isis", 124), ("sctp", 132), ("fc", 133),
    ("mobility-header", 135), ("udplite", 136), ("mpls-in-ip", 137), ("manet", 138), ("hip", 139), ("shim6", 140),
    ("wesp", 141), ("rohc", 142), ("ethernet", 143),
  ]
  /// Accepted on input as well: `icmpv6` for 58.
  static let protocolAliases: [(String, UInt8)] = [("icmpv6", 58)]

  /// The number of a protocol name or decimal number.
  public static func protocolNumber(_ text: String) -> UInt8? {
    if let n = UInt8(text) { return n }
    return (ipProtocols + protocolAliases).first { $0.0 == text }?.1
  }
  /// The name nft lists for a protocol number, or the number.
  public static func protocolName(_ number: UInt8) -> String {
    ipProtocols.first { $0.1 == number }?.0 ?? String(number)
  }

  /// ICMP (IPv4) type names as nft spells them.
  public static let icmpTypes: [(String, UInt8)] = [
    ("echo-reply", 0), ("destination-unreachable", 3), ("source-quench", 4), ("redirect", 5),
    ("echo-request", 8), ("router-advertisement", 9), ("router-solicitation", 10),
    ("time-exceeded", 11), ("parameter-problem", 12), ("timestamp-request", 13),
    ("timestamp-reply", 14), ("info-request", 15), ("info-reply", 16),
    ("address-mask-request", 17), ("address-mask-reply", 18),
  ]
  /// ICMPv6 type names as nft spells them.
  public static let icmpv6Types: [(String, UInt8)] = [
    ("destination-unreachable", 1), ("packet-too-big", 2), ("time-exceeded", 3),
    ("parameter-problem", 4), ("echo-request", 128), ("echo-reply", 129),
    ("mld-listener-query", 130), ("mld-listener-report", 131), ("mld-listener-done", 132),
    ("nd-router-solicit", 133), ("nd-router-advert", 134), ("nd-neighbor-solicit", 135),
    ("nd-neighbor-advert", 136), ("nd-redirect", 137), ("router-renumbering", 138),
    ("ind-neighbor-solicit", 141), ("ind-neighbor-advert", 142), ("mld2-listener-report", 143),
  ]
  /// ICMP code names nft lists for `icmp code`.
  public static let icmpCodes: [(String, UInt8)] = [
    ("net-unreachable", 0), ("host-unreachable", 1), ("prot-unreachable", 2),
    ("port-unreachable", 3), ("frag-needed", 4), ("net-prohibited", 9), ("host-prohibited", 10),
    ("admin-prohibited", 13),
  ]
  /// ICMPv6 code names nft lists for `icmpv6 code`.
  public static let icmpv6Codes: [(String, UInt8)] = [
    ("no-route", 0), ("admin-prohibited", 1), ("addr-unreachable", 3), ("port-unreachable", 4),
    ("policy-fail", 5), ("reject-route", 6),
  ]

  /// The type table for a version.
  public static func icmpTypeTable(_ version: IPVersion) -> [(String, UInt8)] {
    version == .v4 ? icmpTypes : icmpv6Types
  }
  /// The code table for a version.
  public static func icmpCodeTable(_ version: IPVersion) -> [(String, UInt8)] {
    version == .v4 ? icmpCodes : icmpv6Codes
  }
  /// Name for a number in a table, or the number.
  public static func name(_ number: UInt8, in table: [(String, UInt8)]) -> String {
    table.first { $0.1 == number }?.0 ?? String(number)
  }
  /// Number for a name or decimal in a table.
  public static func number(_ text: String, in table: [(String, UInt8)]) -> UInt8? {
    if let n = UInt8(text) { return n }
    return table.first { $0.0 == text }?.1
  }
}
