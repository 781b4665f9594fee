import NetfilterModel

/// A set as the kernel gets it (`NEWSET` + `NEWSETELEM`): key type and length, flags, and the
/// elements already encoded, interval sets with nft's start/end elements.
struct KernelSet {
  /// One element: its key and whether it ends an interval (`NFT_SET_ELEM_INTERVAL_END`).
  struct Element: Hashable {
    var key: [UInt8]
    var intervalEnd = false
  }

  /// The set's name; `__set%d` for an anonymous set (the kernel picks the number).
  var name: String
  /// nft's datatype number (`NFTA_SET_KEY_TYPE`): 7 ipv4_addr, 13 inet_service, …
  var keyType: UInt32
  var keyLength: UInt32
  /// nft's `NFTNL_UDATA_SET_KEYBYTEORDER`: 1 host, 2 big endian.
  var keyByteOrder: UInt32
  var flags: UInt32
  var elements: [Element]
  var location: SourceLocation = .unknown

  var isAnonymous: Bool { flags & KernelSet.anonymous != 0 }

  // NFT_SET_* flags (nf_tables.h).
  static let anonymous: UInt32 = 0x1
  static let constant: UInt32 = 0x2
  static let interval: UInt32 = 0x4

  /// The elements of an interval set as nft 1.0.6 sends them: a leading end element at zero unless
  /// the first range starts there, then each range's start and the end one past its last key
  /// (omitted when the range reaches the top of the key space).
  static func intervalElements(_ ranges: [([UInt8], [UInt8])]) -> [Element] {
    let sorted = ranges.sorted { $0.0.lexicographicallyPrecedes($1.0) }
    var out: [Element] = []
    if let first = sorted.first, first.0.contains(where: { $0 != 0 }) {
      out.append(Element(key: [UInt8](repeating: 0, count: first.0.count), intervalEnd: true))
    }
    for (lo, hi) in sorted {
      out.append(Element(key: lo))
      if let next = successor(hi) { out.append(Element(key: next, intervalEnd: true)) }
    }
    return out
  }

  /// The big-endian key one above `key`, or nil when `key` is all ones.
  static func successor(_ key: [UInt8]) -> [UInt8]? {
    var out = key
    for i in out.indices.reversed() {
      if out[i] == 0xff {
        out[i] = 0
      } else {
        out[i] += 1
        return out
      }
    }
    return nil
  }
}

/// Key encodings, in the byte order the kernel compares them.
enum Bytes {
  static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }
  static func host32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
  static func host16(_ v: UInt16) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

  static func address(_ a: IPAddress) -> [UInt8] {
    switch a {
    case .v4(let v): return withUnsafeBytes(of: v.bigEndian) { Array($0) }
    case .v6(let hi, let lo):
      return withUnsafeBytes(of: hi.bigEndian) { Array($0) } + withUnsafeBytes(of: lo.bigEndian) { Array($0) }
    }
  }

  /// An interface name padded with zeros to IFNAMSIZ (16), as `meta iifname` loads it.
  static func interfaceName(_ name: String) -> [UInt8] {
    let raw = Array(name.utf8.prefix(15))
    return raw + [UInt8](repeating: 0, count: 16 - raw.count)
  }

  /// The bits of a prefix length, as a mask of `width` bytes.
  static func prefixMask(_ length: Int, bytes width: Int) -> [UInt8] {
    (0..<width).map { i in
      let bits = max(0, min(8, length - i * 8))
      return bits == 0 ? 0 : UInt8(truncatingIfNeeded: 0xff << (8 - bits))
    }
  }
}
