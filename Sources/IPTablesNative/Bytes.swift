import CIPTC

/// Byte-level helpers for filling kernel structures from Swift.
enum Bytes {
  /// The bytes of a padding-free value (an integer).
  static func of<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value) { Array($0) }
  }

  /// A C structure built in zeroed memory, field by field: copying a Swift value of a C struct
  /// does not copy its padding, and the kernel keeps (and lists back) whatever is there.
  static func make<T>(_ type: T.Type, _ fill: (inout T) -> Void) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: MemoryLayout<T>.size)
    bytes.withUnsafeMutableBytes { raw in
      fill(&raw.baseAddress!.bindMemory(to: T.self, capacity: 1).pointee)
    }
    return bytes
  }

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

  /// A match or target record: `struct xt_entry_match`/`xt_entry_target` header (size, name,
  /// revision) followed by the payload, padded to `XT_ALIGN`.
  static func record(name: String, revision: UInt8, payload: [UInt8]) -> [UInt8] {
    let size = fb_xt_align(UInt32(MemoryLayout<xt_entry_match>.size + payload.count))
    var bytes =
      make(xt_entry_match.self) { header in
        header.u.user.match_size = UInt16(size)
        fill(&header.u.user.name, string: name)
        header.u.user.revision = revision
      } + payload
    bytes += [UInt8](repeating: 0, count: Int(size) - bytes.count)
    return bytes
  }
}
