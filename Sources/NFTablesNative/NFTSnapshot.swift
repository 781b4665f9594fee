import CNftnl
import Foundation

/// The live objects of some tables, as the kernel dumped them: every table, chain, set, set-element
/// chunk and rule is kept as its raw netlink message (`NEWTABLE`, `NEWCHAIN`, … as `nft list`
/// receives them), enough to re-create the tables exactly (`Connection.restore`).
///
/// Two snapshots are equal when their `canonicalText` is: the same objects, ignoring handles,
/// positions, use counts and counter values.
public struct NFTSnapshot: Codable, Sendable, Equatable {
  /// One table and everything in it, in the kernel's order.
  public struct TableObjects: Codable, Sendable {
    public var id: TableID
    public var table: Data
    public var chains: [Data]
    public var sets: [SetObjects]
    public var rules: [Data]
  }

  /// A set (named or anonymous) and its element dump messages.
  public struct SetObjects: Codable, Sendable {
    public var set: Data
    public var elements: [Data]
  }

  /// The tables, sorted by family and name.
  public var tables: [TableObjects]

  public init(tables: [TableObjects]) { self.tables = tables.sorted { $0.id < $1.id } }

  /// The ids of the tables it holds.
  public var tableIDs: [TableID] { tables.map(\.id) }

  /// A readable, stable text of every object (libnftnl's `nftnl_*_snprintf`), without handles,
  /// positions, use counts and counter values: what drift is shown with.
  public var canonicalText: String {
    var out = ""
    func indented(_ text: String) -> String { text.replacingOccurrences(of: "\n", with: "\n    ") }
    for t in tables {
      let table = Parsed.table(t.table)
      out += "table " + table.text + "\n"
      nftnl_table_free(table.pointer)
      for c in t.chains {
        let chain = Parsed.chain(c)
        out += "  chain " + chain.text + "\n"
        nftnl_chain_free(chain.pointer)
      }
      for s in t.sets {
        let set = Parsed.set(s)
        out += "  set " + indented(set.text) + "\n"
        nftnl_set_free(set.pointer)
      }
      for r in t.rules {
        let rule = Parsed.rule(r)
        out += "  rule " + indented(rule.text) + "\n"
        nftnl_rule_free(rule.pointer)
      }
    }
    return Self.withoutCounters(out)
  }

  public static func == (lhs: NFTSnapshot, rhs: NFTSnapshot) -> Bool { lhs.canonicalText == rhs.canonicalText }

  /// libnftnl prints handles, use counts and counters whether set or not: zero them.
  static func withoutCounters(_ text: String) -> String {
    text.replacingOccurrences(of: #"(pkts|packets) \d+ bytes \d+"#, with: "$1 0 bytes 0", options: .regularExpression)
      .replacingOccurrences(of: #" (use|handle) \d+"#, with: "", options: .regularExpression)
  }
}

/// Raw dump messages parsed back into libnftnl objects (`nftnl_*_nlmsg_parse`), with the
/// attributes that only describe the live copy (handle, position, use) removed. The caller owns
/// (frees) the returned object.
enum Parsed {
  static func withMessage<T>(_ data: Data, _ body: (UnsafePointer<nlmsghdr>) -> T) -> T {
    data.withUnsafeBytes { body($0.baseAddress!.assumingMemoryBound(to: nlmsghdr.self)) }
  }

  static func text(_ print: (UnsafeMutablePointer<CChar>, Int) -> Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 1 << 16)
    var n = buffer.withUnsafeMutableBufferPointer { print($0.baseAddress!, $0.count) }
    if n >= buffer.count {
      buffer = [CChar](repeating: 0, count: Int(n) + 1)
      n = buffer.withUnsafeMutableBufferPointer { print($0.baseAddress!, $0.count) }
    }
    return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
  }

  static func table(_ data: Data) -> (pointer: OpaquePointer, text: String) {
    let t = nftnl_table_alloc()!
    _ = withMessage(data) { nftnl_table_nlmsg_parse($0, t) }
    nftnl_table_unset(t, UInt16(NFTNL_TABLE_HANDLE.rawValue))
    nftnl_table_unset(t, UInt16(NFTNL_TABLE_USE.rawValue))
    return (t, text { nftnl_table_snprintf($0, $1, t, 0, 0) })
  }

  static func chain(_ data: Data) -> (pointer: OpaquePointer, text: String) {
    let c = nftnl_chain_alloc()!
    _ = withMessage(data) { nftnl_chain_nlmsg_parse($0, c) }
    nftnl_chain_unset(c, UInt16(NFTNL_CHAIN_HANDLE.rawValue))
    nftnl_chain_unset(c, UInt16(NFTNL_CHAIN_USE.rawValue))
    return (c, text { nftnl_chain_snprintf($0, $1, c, 0, 0) })
  }

  static func set(_ s: NFTSnapshot.SetObjects) -> (pointer: OpaquePointer, text: String) {
    let p = nftnl_set_alloc()!
    _ = withMessage(s.set) { nftnl_set_nlmsg_parse($0, p) }
    nftnl_set_unset(p, UInt16(NFTNL_SET_HANDLE.rawValue))
    for e in s.elements { _ = withMessage(e) { nftnl_set_elems_nlmsg_parse($0, p) } }
    // nftnl_set_snprintf leaves out the key and nft's userdata; they decide how nft lists the set.
    var length: UInt32 = 0
    let udata = nftnl_set_get_data(p, UInt16(NFTNL_SET_USERDATA.rawValue), &length).map {
      UnsafeRawBufferPointer(start: $0, count: Int(length)).map { String(format: "%02x", $0) }.joined()
    }
    let key =
      " key_type \(nftnl_set_get_u32(p, UInt16(NFTNL_SET_KEY_TYPE.rawValue)))"
      + " key_len \(nftnl_set_get_u32(p, UInt16(NFTNL_SET_KEY_LEN.rawValue))) userdata \(udata ?? "-")"
    // The header line, then the elements one per line, sorted: a hash set dumps its elements in
    // the order of a per-set random hash seed.
    let printed = text { nftnl_set_snprintf($0, $1, p, 0, 0) }
    let header = printed.prefix { $0 != "\n" }
    let elements = printed.components(separatedBy: "\telement ").dropFirst()
      .map { "element " + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.sorted()
    return (p, ([header + key] + elements).joined(separator: "\n"))
  }

  static func rule(_ data: Data) -> (pointer: OpaquePointer, text: String) {
    let r = nftnl_rule_alloc()!
    _ = withMessage(data) { nftnl_rule_nlmsg_parse($0, r) }
    nftnl_rule_unset(r, UInt16(NFTNL_RULE_HANDLE.rawValue))
    nftnl_rule_unset(r, UInt16(NFTNL_RULE_POSITION.rawValue))
    return (r, text { nftnl_rule_snprintf($0, $1, r, 0, 0) })
  }
}
