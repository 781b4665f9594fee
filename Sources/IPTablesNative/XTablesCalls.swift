import CIPTC

/// The libiptc calls of one family. libip4tc (`iptc_*`) and libip6tc (`ip6tc_*`) export the same
/// functions under two prefixes and two entry types; entries cross this boundary as raw bytes.
protocol XTablesCalls {
  /// `iptc_init` / `ip6tc_init`.
  static func initialize(_ table: String) -> OpaquePointer?
  /// `iptc_free`.
  static func free(_ handle: OpaquePointer)
  /// `iptc_first_chain` / `iptc_next_chain`.
  static func firstChain(_ handle: OpaquePointer) -> UnsafePointer<CChar>?
  static func nextChain(_ handle: OpaquePointer) -> UnsafePointer<CChar>?
  /// `iptc_first_rule` / `iptc_next_rule`.
  static func firstRule(_ chain: String, _ handle: OpaquePointer) -> UnsafeRawPointer?
  static func nextRule(_ previous: UnsafeRawPointer, _ handle: OpaquePointer) -> UnsafeRawPointer?
  /// `iptc_get_target`: a verdict label, a chain name, `""` or the extension's name.
  static func targetLabel(_ entry: UnsafeRawPointer, _ handle: OpaquePointer) -> UnsafePointer<CChar>?
  /// `iptc_builtin`.
  static func isBuiltin(_ chain: String, _ handle: OpaquePointer) -> Bool
  /// `iptc_get_policy`.
  static func policy(_ chain: String, _ counters: inout xt_counters, _ handle: OpaquePointer) -> UnsafePointer<CChar>?
  /// `iptc_set_policy`.
  static func setPolicy(_ chain: String, _ policy: String, _ counters: inout xt_counters, _ handle: OpaquePointer)
    -> Int32
  /// `iptc_flush_entries`, `iptc_create_chain`, `iptc_delete_chain`.
  static func flush(_ chain: String, _ handle: OpaquePointer) -> Int32
  static func createChain(_ chain: String, _ handle: OpaquePointer) -> Int32
  static func deleteChain(_ chain: String, _ handle: OpaquePointer) -> Int32
  /// `iptc_append_entry`.
  static func append(_ chain: String, _ entry: UnsafeRawPointer, _ handle: OpaquePointer) -> Int32
  /// `iptc_commit`: one `IPT_SO_SET_REPLACE` of the whole table.
  static func commit(_ handle: OpaquePointer) -> Int32
  /// `iptc_strerror`: errno in the words of the last libiptc call.
  static func errorText(_ errno: Int32) -> String
  /// Where `target_offset`, `next_offset`, `comefrom` and `counters` sit in the entry.
  static var layout: EntryLayout { get }
}

/// Field offsets of `struct ipt_entry`/`ip6t_entry` that snapshots read and normalise.
struct EntryLayout {
  var size: Int
  var targetOffset: Int
  var nextOffset: Int
  var comefrom: Int
  var counters: Int
}

/// `iptc_*` from libip4tc.
enum IPv4Calls: XTablesCalls {
  static func initialize(_ table: String) -> OpaquePointer? { iptc_init(table) }
  static func free(_ handle: OpaquePointer) { iptc_free(handle) }
  static func firstChain(_ handle: OpaquePointer) -> UnsafePointer<CChar>? { iptc_first_chain(handle) }
  static func nextChain(_ handle: OpaquePointer) -> UnsafePointer<CChar>? { iptc_next_chain(handle) }
  static func firstRule(_ chain: String, _ handle: OpaquePointer) -> UnsafeRawPointer? {
    UnsafeRawPointer(iptc_first_rule(chain, handle))
  }
  static func nextRule(_ previous: UnsafeRawPointer, _ handle: OpaquePointer) -> UnsafeRawPointer? {
    UnsafeRawPointer(iptc_next_rule(previous.assumingMemoryBound(to: ipt_entry.self), handle))
  }
  static func targetLabel(_ entry: UnsafeRawPointer, _ handle: OpaquePointer) -> UnsafePointer<CChar>? {
    iptc_get_target(entry.assumingMemoryBound(to: ipt_entry.self), handle)
  }
  static func isBuiltin(_ chain: String, _ handle: OpaquePointer) -> Bool { iptc_builtin(chain, handle) != 0 }
  static func policy(_ chain: String, _ counters: inout xt_counters, _ handle: OpaquePointer) -> UnsafePointer<CChar>? {
    iptc_get_policy(chain, &counters, handle)
  }
  static func setPolicy(_ chain: String, _ policy: String, _ counters: inout xt_counters, _ handle: OpaquePointer)
    -> Int32
  { iptc_set_policy(chain, policy, &counters, handle) }
  static func flush(_ chain: String, _ handle: OpaquePointer) -> Int32 { iptc_flush_entries(chain, handle) }
  static func createChain(_ chain: String, _ handle: OpaquePointer) -> Int32 { iptc_create_chain(chain, handle) }
  static func deleteChain(_ chain: String, _ handle: OpaquePointer) -> Int32 { iptc_delete_chain(chain, handle) }
  static func append(_ chain: String, _ entry: UnsafeRawPointer, _ handle: OpaquePointer) -> Int32 {
    iptc_append_entry(chain, entry.assumingMemoryBound(to: ipt_entry.self), handle)
  }
  static func commit(_ handle: OpaquePointer) -> Int32 { iptc_commit(handle) }
  static func errorText(_ errno: Int32) -> String { String(cString: iptc_strerror(errno)) }
  static let layout = EntryLayout(
    size: MemoryLayout<ipt_entry>.size, targetOffset: MemoryLayout<ipt_entry>.offset(of: \.target_offset)!,
    nextOffset: MemoryLayout<ipt_entry>.offset(of: \.next_offset)!,
    comefrom: MemoryLayout<ipt_entry>.offset(of: \.comefrom)!,
    counters: MemoryLayout<ipt_entry>.offset(of: \.counters)!)
}

/// `ip6tc_*` from libip6tc.
enum IPv6Calls: XTablesCalls {
  static func initialize(_ table: String) -> OpaquePointer? { ip6tc_init(table) }
  static func free(_ handle: OpaquePointer) { ip6tc_free(handle) }
  static func firstChain(_ handle: OpaquePointer) -> UnsafePointer<CChar>? { ip6tc_first_chain(handle) }
  static func nextChain(_ handle: OpaquePointer) -> UnsafePointer<CChar>? { ip6tc_next_chain(handle) }
  static func firstRule(_ chain: String, _ handle: OpaquePointer) -> UnsafeRawPointer? {
    UnsafeRawPointer(ip6tc_first_rule(chain, handle))
  }
  static func nextRule(_ previous: UnsafeRawPointer, _ handle: OpaquePointer) -> UnsafeRawPointer? {
    UnsafeRawPointer(ip6tc_next_rule(previous.assumingMemoryBound(to: ip6t_entry.self), handle))
  }
  static func targetLabel(_ entry: UnsafeRawPointer, _ handle: OpaquePointer) -> UnsafePointer<CChar>? {
    ip6tc_get_target(entry.assumingMemoryBound(to: ip6t_entry.self), handle)
  }
  static func isBuiltin(_ chain: String, _ handle: OpaquePointer) -> Bool { ip6tc_builtin(chain, handle) != 0 }
  static func policy(_ chain: String, _ counters: inout xt_counters, _ handle: OpaquePointer) -> UnsafePointer<CChar>? {
    ip6tc_get_policy(chain, &counters, handle)
  }
  static func setPolicy(_ chain: String, _ policy: String, _ counters: inout xt_counters, _ handle: OpaquePointer)
    -> Int32
  { ip6tc_set_policy(chain, policy, &counters, handle) }
  static func flush(_ chain: String, _ handle: OpaquePointer) -> Int32 { ip6tc_flush_entries(chain, handle) }
  static func createChain(_ chain: String, _ handle: OpaquePointer) -> Int32 { ip6tc_create_chain(chain, handle) }
  static func deleteChain(_ chain: String, _ handle: OpaquePointer) -> Int32 { ip6tc_delete_chain(chain, handle) }
  static func append(_ chain: String, _ entry: UnsafeRawPointer, _ handle: OpaquePointer) -> Int32 {
    ip6tc_append_entry(chain, entry.assumingMemoryBound(to: ip6t_entry.self), handle)
  }
  static func commit(_ handle: OpaquePointer) -> Int32 { ip6tc_commit(handle) }
  static func errorText(_ errno: Int32) -> String { String(cString: ip6tc_strerror(errno)) }
  static let layout = EntryLayout(
    size: MemoryLayout<ip6t_entry>.size, targetOffset: MemoryLayout<ip6t_entry>.offset(of: \.target_offset)!,
    nextOffset: MemoryLayout<ip6t_entry>.offset(of: \.next_offset)!,
    comefrom: MemoryLayout<ip6t_entry>.offset(of: \.comefrom)!,
    counters: MemoryLayout<ip6t_entry>.offset(of: \.counters)!)
}

extension IPTFamily {
  /// The libiptc functions for this family.
  var calls: any XTablesCalls.Type { self == .ipv4 ? IPv4Calls.self : IPv6Calls.self }
}
