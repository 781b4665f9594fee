import CIPTC

/// Byte-level helpers for filling kernel structures from Swift.
enum Bytes {
  /// Copies `values` into the start of a fixed C array (imported as a tuple) or union.
  static func fill<T, E>(_ field: inout T, with values: [E]) {
    withUnsafeMutableBytes(of: &field) { raw in
      values.withUnsafeBytes { source in
        raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: source.prefix(raw.count)))
      }
    }
  }

  /// A NUL-padded C string in a fixed array; the caller has checked that it fits.
  static func fill<T>(_ field: inout T, string: String) {
    fill(&field, with: Array(string.utf8))
  }

  /// An interface name and its mask as `xtables_parse_interface` makes them: a trailing `+`
  /// stays in the name and masks only the bytes before it; otherwise the NUL is matched too.
  static func interface(_ name: String) -> (name: [UInt8], mask: [UInt8]) {
    let bytes = Array(name.utf8)
    var mask = [UInt8](repeating: 0, count: Int(IFNAMSIZ))
    let masked = bytes.last == UInt8(ascii: "+") ? bytes.count - 1 : bytes.count + 1
    for i in 0..<min(masked, mask.count) { mask[i] = 0xFF }
    return (bytes, mask)
  }

  /// A port in network byte order, as `union nf_conntrack_man_proto` holds it.
  static func networkPort(_ port: UInt16) -> nf_conntrack_man_proto {
    var proto = nf_conntrack_man_proto()
    proto.all = port.bigEndian
    return proto
  }
}
