import CIPTC

/// An x_tables entry being written: one byte buffer, each kernel structure appended zeroed and
/// filled in place, field by field.
///
/// In place because copying a Swift value of a C struct does not copy its padding, and the
/// kernel keeps (and lists back) whatever is there; one buffer because an entry per rule is
/// the hot path of a large apply.
struct EntryWriter {
  private(set) var bytes: [UInt8] = []

  init(capacity: Int) { bytes.reserveCapacity(capacity) }

  /// Appends a zeroed `T`, lets `fill` set its fields, and returns its offset.
  @discardableResult
  mutating func append<T>(_ type: T.Type, _ fill: (inout T) -> Void) -> Int {
    let at = bytes.count
    bytes.append(contentsOf: repeatElement(0, count: MemoryLayout<T>.size))
    update(T.self, at: at, fill)
    return at
  }

  /// Changes fields of the `T` at `at`.
  mutating func update<T>(_ type: T.Type, at: Int, _ fill: (inout T) -> Void) {
    bytes.withUnsafeMutableBytes { raw in
      fill(&(raw.baseAddress! + at).bindMemory(to: T.self, capacity: 1).pointee)
    }
  }

  /// Appends a match or target record: the `struct xt_entry_match`/`xt_entry_target` header
  /// (size, name, revision; the two have one layout), a `T` payload, and `XT_ALIGN` padding.
  mutating func record<T>(name: String, revision: UInt8, _ payload: T.Type, _ fill: (inout T) -> Void) {
    let size = UInt16(fb_xt_align(UInt32(MemoryLayout<xt_entry_match>.size + MemoryLayout<T>.size)))
    let at = append(xt_entry_match.self) { header in
      header.u.user.match_size = size
      Bytes.fill(&header.u.user.name, string: name)
      header.u.user.revision = revision
    }
    append(T.self, fill)
    bytes.append(contentsOf: repeatElement(0, count: at + Int(size) - bytes.count))
  }

  /// Appends a match or target record without a payload (`-j TRACE`).
  mutating func record(name: String, revision: UInt8) {
    let size = UInt16(fb_xt_align(UInt32(MemoryLayout<xt_entry_match>.size)))
    let at = append(xt_entry_match.self) { header in
      header.u.user.match_size = size
      Bytes.fill(&header.u.user.name, string: name)
      header.u.user.revision = revision
    }
    bytes.append(contentsOf: repeatElement(0, count: at + Int(size) - bytes.count))
  }

  /// A standard target (`struct xt_standard_target`) named by its label: a verdict, a chain
  /// name, or `""` to fall through. libiptc turns the label into the verdict or the offset.
  mutating func standard(_ label: String) {
    record(name: label, revision: 0, Int32.self) { _ in }
  }
}
