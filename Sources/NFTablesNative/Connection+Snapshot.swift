import CNftnl
import Foundation
import NetfilterModel

extension Connection {
  /// Dumps the live tables (all, or the ones named in `tables` that exist) with their chains,
  /// sets, set elements and rules. The dump is retried until the ruleset generation
  /// (`NFT_MSG_GETGEN`) is the same before and after, so it is one consistent state.
  ///
  /// Equivalent to `nft list ruleset` (or `nft list table F N` for each), kept as raw objects.
  public func snapshot(tables: [TableID]? = nil) throws -> NFTSnapshot {
    var attempts = 0
    while true {
      let before = try generation()
      let snapshot = try dumpTables(tables)
      if try generation() == before || attempts >= 10 { return snapshot }
      attempts += 1
    }
  }

  /// The ruleset generation id (`NFT_MSG_GETGEN`); every committed transaction changes it.
  public func generation() throws -> UInt32 {
    var id: UInt32 = 0
    try socket.dump(NFT_MSG_GETGEN, object: "ruleset generation", flags: NLM_F_ACK) { nlh in
      let g = nftnl_gen_alloc()!
      defer { nftnl_gen_free(g) }
      _ = nftnl_gen_nlmsg_parse(nlh, g)
      id = nftnl_gen_get_u32(g, UInt16(NFTNL_GEN_ID))
    }
    return id
  }

  /// The live tables' ids, in the kernel's order (nothing inside them is read).
  ///
  /// Equivalent to `nft list tables`.
  public func tableIDs() throws -> [TableID] {
    var ids: [TableID] = []
    try socket.dump(NFT_MSG_GETTABLE, object: "tables") { nlh in
      let t = nftnl_table_alloc()!
      defer { nftnl_table_free(t) }
      _ = nftnl_table_nlmsg_parse(nlh, t)
      if let id = Self.id(
        nftnl_table_get_u32(t, UInt16(NFTNL_TABLE_FAMILY.rawValue)),
        nftnl_table_get_str(t, UInt16(NFTNL_TABLE_NAME.rawValue)))
      {
        ids.append(id)
      }
    }
    return ids
  }

  func dumpTables(_ wanted: [TableID]?) throws -> NFTSnapshot {
    var order: [TableID] = []
    var tables: [TableID: Data] = [:]
    // Separate arrays per table, appended in place (a dictionary of structs would copy per append).
    var chains: [TableID: [Data]] = [:]
    var setObjects: [TableID: [NFTSnapshot.SetObjects]] = [:]
    var rules: [TableID: [Data]] = [:]
    func keep(_ id: TableID) -> Bool { wanted.map { $0.contains(id) } ?? true }

    try socket.dump(NFT_MSG_GETTABLE, object: "tables") { nlh in
      let data = Self.copy(nlh)
      let (t, _) = Parsed.table(data)
      defer { nftnl_table_free(t) }
      guard
        let id = Self.id(
          nftnl_table_get_u32(t, UInt16(NFTNL_TABLE_FAMILY.rawValue)),
          nftnl_table_get_str(t, UInt16(NFTNL_TABLE_NAME.rawValue))), keep(id)
      else { return }
      order.append(id)
      tables[id] = data
    }
    try socket.dump(NFT_MSG_GETCHAIN, object: "chains") { nlh in
      let data = Self.copy(nlh)
      let (c, _) = Parsed.chain(data)
      defer { nftnl_chain_free(c) }
      if let id = Self.id(
        nftnl_chain_get_u32(c, UInt16(NFTNL_CHAIN_FAMILY.rawValue)),
        nftnl_chain_get_str(c, UInt16(NFTNL_CHAIN_TABLE.rawValue))), tables[id] != nil
      {
        chains[id, default: []].append(data)
      }
    }
    var sets: [(TableID, Data, String)] = []
    try socket.dump(NFT_MSG_GETSET, object: "sets") { nlh in
      let data = Self.copy(nlh)
      let s = nftnl_set_alloc()!
      defer { nftnl_set_free(s) }
      _ = nftnl_set_nlmsg_parse(nlh, s)
      if let id = Self.id(
        nftnl_set_get_u32(s, UInt16(NFTNL_SET_FAMILY.rawValue)),
        nftnl_set_get_str(s, UInt16(NFTNL_SET_TABLE.rawValue))), tables[id] != nil
      {
        sets.append((id, data, String(cString: nftnl_set_get_str(s, UInt16(NFTNL_SET_NAME.rawValue)))))
      }
    }
    for (id, data, name) in sets {
      var elements: [Data] = []
      try socket.dump(NFT_MSG_GETSETELEM, family: id.family.nfproto, object: "elements of set \(id) \(name)") { nlh in
        let s = nftnl_set_alloc()!
        defer { nftnl_set_free(s) }
        nftnl_set_set_str(s, UInt16(NFTNL_SET_TABLE.rawValue), id.name)
        nftnl_set_set_str(s, UInt16(NFTNL_SET_NAME.rawValue), name)
        nftnl_set_elems_nlmsg_build_payload(nlh, s)
      } _: { nlh in
        elements.append(Self.copy(nlh))
      }
      setObjects[id, default: []].append(NFTSnapshot.SetObjects(set: data, elements: elements))
    }
    try socket.dump(NFT_MSG_GETRULE, object: "rules") { nlh in
      let data = Self.copy(nlh)
      let r = nftnl_rule_alloc()!
      defer { nftnl_rule_free(r) }
      _ = nftnl_rule_nlmsg_parse(nlh, r)
      if let id = Self.id(
        nftnl_rule_get_u32(r, UInt16(NFTNL_RULE_FAMILY.rawValue)),
        nftnl_rule_get_str(r, UInt16(NFTNL_RULE_TABLE.rawValue))), tables[id] != nil
      {
        rules[id, default: []].append(data)
      }
    }
    return NFTSnapshot(
      tables: order.map { id in
        NFTSnapshot.TableObjects(
          id: id, table: tables[id]!, chains: chains[id] ?? [], sets: setObjects[id] ?? [], rules: rules[id] ?? [])
      })
  }

  static func copy(_ nlh: UnsafeMutablePointer<nlmsghdr>) -> Data {
    Data(bytes: UnsafeRawPointer(nlh), count: Int(nlh.pointee.nlmsg_len))
  }

  static func id(_ family: UInt32, _ name: UnsafePointer<CChar>?) -> TableID? {
    guard let name, let f = Family(nfproto: family) else { return nil }
    return TableID(family: f, name: String(cString: name))
  }
}
