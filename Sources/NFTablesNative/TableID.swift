import NetfilterModel

/// A table as the kernel names it: family and name (`inet filter`). Firebreak owns exactly the
/// tables its policy declares; every other table is never touched.
public struct TableID: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
  public var family: Family
  public var name: String

  public init(family: Family, name: String) {
    self.family = family
    self.name = name
  }

  /// The id of a model table.
  public init(_ table: Table) { self.init(family: table.family, name: table.name) }

  /// `inet filter`, as nft names a table.
  public var description: String { "\(family.rawValue) \(name)" }

  public static func < (lhs: TableID, rhs: TableID) -> Bool {
    (lhs.family.rawValue, lhs.name) < (rhs.family.rawValue, rhs.name)
  }

  enum CodingKeys: String, CodingKey { case family, name }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let raw = try c.decode(String.self, forKey: .family)
    guard let family = Family(rawValue: raw) else {
      throw DecodingError.dataCorruptedError(forKey: .family, in: c, debugDescription: "unknown family \(raw)")
    }
    self.init(family: family, name: try c.decode(String.self, forKey: .name))
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(family.rawValue, forKey: .family)
    try c.encode(name, forKey: .name)
  }
}

extension Family {
  /// The `NFPROTO_*` number of the family (`nfgenmsg.nfgen_family`).
  var nfproto: UInt16 {
    switch self {
    case .ip: return 2
    case .ip6: return 10
    case .inet: return 1
    case .arp: return 3
    case .bridge: return 7
    case .netdev: return 5
    }
  }

  /// The family with this `NFPROTO_*` number.
  init?(nfproto: UInt32) {
    guard let f = Family.allCases.first(where: { UInt32($0.nfproto) == nfproto }) else { return nil }
    self = f
  }
}
