import CNftnl
import Foundation
import NetfilterModel

extension Connection {
  /// Puts the snapshot's tables back exactly, in one kernel transaction: deletes the `replacing`
  /// tables that exist (and any snapshot table that exists), then re-creates each snapshot table
  /// with its chains, sets (anonymous ones under their old names), elements and rules (appended in
  /// order, without handles or positions; counters keep their values). Tables named nowhere are
  /// never touched.
  ///
  /// Equivalent to `nft -f` of a saved `nft list table …` output preceded by `delete table`s.
  @discardableResult
  public func restore(_ snapshot: NFTSnapshot, replacing: [TableID] = []) throws -> ApplyStatistics {
    let start = DispatchTime.now()
    let batch = Batch(firstSequence: socket.sequence)
    var deleted = Set<TableID>()
    for id in replacing + snapshot.tableIDs where deleted.insert(id).inserted { batch.deleteTable(id) }
    for table in snapshot.tables { batch.restore(table) }
    return try send(batch, builtSince: start)
  }
}

extension Batch {
  /// Re-creates one dumped table: NEWTABLE, NEWCHAINs, NEWSETs with their NEWSETELEMs, NEWRULEs.
  func restore(_ t: NFTSnapshot.TableObjects) {
    let family = t.id.family.nfproto
    let table = Parsed.table(t.table)
    defer { nftnl_table_free(table.pointer) }
    add(
      NFT_MSG_NEWTABLE, family: family, flags: NLM_F_CREATE,
      origin: .init(operation: "restore table", object: "\(t.id)")
    ) {
      nftnl_table_nlmsg_build_payload($0, table.pointer)
    }
    for data in t.chains {
      let chain = Parsed.chain(data)
      defer { nftnl_chain_free(chain.pointer) }
      let name = String(cString: nftnl_chain_get_str(chain.pointer, UInt16(NFTNL_CHAIN_NAME.rawValue)))
      add(
        NFT_MSG_NEWCHAIN, family: family, flags: NLM_F_CREATE,
        origin: .init(operation: "restore chain", object: "\(t.id) \(name)")
      ) {
        nftnl_chain_nlmsg_build_payload($0, chain.pointer)
      }
    }
    for s in t.sets {
      let set = nftnl_set_alloc()!
      defer { nftnl_set_free(set) }
      _ = Parsed.withMessage(s.set) { nftnl_set_nlmsg_parse($0, set) }
      nftnl_set_unset(set, UInt16(NFTNL_SET_HANDLE.rawValue))
      nftnl_set_set_u32(set, UInt16(NFTNL_SET_ID.rawValue), newSetID())
      let name = String(cString: nftnl_set_get_str(set, UInt16(NFTNL_SET_NAME.rawValue)))
      let object = "\(t.id) \(name)"
      add(NFT_MSG_NEWSET, family: family, flags: NLM_F_CREATE, origin: .init(operation: "restore set", object: object))
      {
        nftnl_set_nlmsg_build_payload($0, set)
      }
      for e in s.elements { _ = Parsed.withMessage(e) { nftnl_set_elems_nlmsg_parse($0, set) } }
      if !s.elements.isEmpty {
        addElements(of: set, family: family, origin: .init(operation: "restore elements of set", object: object))
      }
    }
    for (index, data) in t.rules.enumerated() {
      let rule = Parsed.rule(data)
      defer { nftnl_rule_free(rule.pointer) }
      let chain = String(cString: nftnl_rule_get_str(rule.pointer, UInt16(NFTNL_RULE_CHAIN.rawValue)))
      let origin = Origin(operation: "restore rule", object: "\(t.id) \(chain) rule \(index + 1)")
      add(NFT_MSG_NEWRULE, family: family, flags: NLM_F_CREATE | NLM_F_APPEND, origin: origin) {
        nftnl_rule_nlmsg_build_payload($0, rule.pointer)
      }
    }
  }
}
