import CNftnl
import NetfilterModel

/// Model tables -> batch messages, in the order nft sends them: table, chains, sets with their
/// elements, then rules (each after the anonymous sets it looks up).
extension Batch {
  /// Deletes a table if it exists, inside the transaction: `NEWTABLE` (a no-op when it exists)
  /// then `DELTABLE`. Equivalent to `nft add table F N; nft delete table F N`.
  func deleteTable(_ id: TableID) {
    add(
      NFT_MSG_NEWTABLE, family: id.family.nfproto, flags: NLM_F_CREATE,
      origin: .init(operation: "create table", object: "\(id)")
    ) {
      Self.buildTable(id, into: $0)
    }
    add(
      NFT_MSG_DELTABLE, family: id.family.nfproto, flags: 0, origin: .init(operation: "delete table", object: "\(id)")
    ) {
      Self.buildTable(id, into: $0)
    }
  }

  /// Creates a table with its chains, sets and rules. `rules[chain][i]` is the linearized rule.
  func addTable(_ table: Table, rules: [String: [LinearRule]]) {
    let id = TableID(table)
    let family = id.family.nfproto
    add(
      NFT_MSG_NEWTABLE, family: family, flags: NLM_F_CREATE,
      origin: .init(operation: "create table", object: "\(id)", location: table.location)
    ) {
      Self.buildTable(id, into: $0)
    }
    for chain in table.chains {
      let origin = Origin(operation: "create chain", object: "\(id) \(chain.name)", location: chain.location)
      add(NFT_MSG_NEWCHAIN, family: family, flags: NLM_F_CREATE, origin: origin) { nlh in
        let c = nftnl_chain_alloc()!
        defer { nftnl_chain_free(c) }
        nftnl_chain_set_str(c, UInt16(NFTNL_CHAIN_TABLE.rawValue), id.name)
        nftnl_chain_set_str(c, UInt16(NFTNL_CHAIN_NAME.rawValue), chain.name)
        if let base = chain.base {
          nftnl_chain_set_u32(c, UInt16(NFTNL_CHAIN_HOOKNUM.rawValue), Self.hookNumber(base.hook))
          nftnl_chain_set_s32(c, UInt16(NFTNL_CHAIN_PRIO.rawValue), Int32(base.priority.value))
          nftnl_chain_set_str(c, UInt16(NFTNL_CHAIN_TYPE.rawValue), base.type.rawValue)
          nftnl_chain_set_u32(c, UInt16(NFTNL_CHAIN_POLICY.rawValue), base.policy == .accept ? 1 : 0)
          if let device = base.device { nftnl_chain_set_str(c, UInt16(NFTNL_CHAIN_DEV.rawValue), device) }
        }
        nftnl_chain_nlmsg_build_payload(nlh, c)
      }
    }
    for set in table.sets {
      addSet(Self.kernelSet(set), table: id, origin: "\(id) \(set.name)")
    }
    for chain in table.chains {
      for (index, rule) in (rules[chain.name] ?? []).enumerated() {
        let object = "\(id) \(chain.name) rule \(index + 1)"
        let location = chain.rules.indices.contains(index) ? chain.rules[index].location : nil
        let sets = rule.anonymousSets.map { addSet($0, table: id, origin: object) }
        let origin = Origin(operation: "add rule", object: object, location: location)
        add(NFT_MSG_NEWRULE, family: family, flags: NLM_F_CREATE | NLM_F_APPEND, origin: origin) { nlh in
          let r = nftnl_rule_alloc()!
          defer { nftnl_rule_free(r) }
          nftnl_rule_set_str(r, UInt16(NFTNL_RULE_TABLE.rawValue), id.name)
          nftnl_rule_set_str(r, UInt16(NFTNL_RULE_CHAIN.rawValue), chain.name)
          for e in rule.expressions { nftnl_rule_add_expr(r, e.nftnl(sets: sets)) }
          let udata = Self.commentUserdata(rule.comment)
          _ = udata.withUnsafeBytes {
            nftnl_rule_set_data(r, UInt16(NFTNL_RULE_USERDATA.rawValue), $0.baseAddress, UInt32(udata.count))
          }
          nftnl_rule_nlmsg_build_payload(nlh, r)
        }
      }
    }
  }

  /// Creates a set and its elements; returns the (name, id) lookups use.
  @discardableResult
  func addSet(_ set: KernelSet, table: TableID, origin object: String) -> (name: String, id: UInt32) {
    let id = newSetID()
    let family = table.family.nfproto
    func make() -> OpaquePointer {
      let s = nftnl_set_alloc()!
      nftnl_set_set_str(s, UInt16(NFTNL_SET_TABLE.rawValue), table.name)
      nftnl_set_set_str(s, UInt16(NFTNL_SET_NAME.rawValue), set.name)
      nftnl_set_set_u32(s, UInt16(NFTNL_SET_FAMILY.rawValue), UInt32(family))
      nftnl_set_set_u32(s, UInt16(NFTNL_SET_ID.rawValue), id)
      return s
    }
    let kind = set.isAnonymous ? "create anonymous set for" : "create set"
    add(
      NFT_MSG_NEWSET, family: family, flags: NLM_F_CREATE,
      origin: .init(operation: kind, object: object, location: set.location)
    ) { nlh in
      let s = make()
      defer { nftnl_set_free(s) }
      nftnl_set_set_u32(s, UInt16(NFTNL_SET_FLAGS.rawValue), set.flags)
      nftnl_set_set_u32(s, UInt16(NFTNL_SET_KEY_TYPE.rawValue), set.keyType)
      nftnl_set_set_u32(s, UInt16(NFTNL_SET_KEY_LEN.rawValue), set.keyLength)
      if set.isAnonymous { nftnl_set_set_u32(s, UInt16(NFTNL_SET_DESC_SIZE.rawValue), UInt32(set.elements.count)) }
      // nft's userdata: NFTNL_UDATA_SET_KEYBYTEORDER (type 0), and NFTNL_UDATA_SET_MERGE_ELEMENTS
      // (type 2) for the anonymous interval sets nft merges.
      var udata: [UInt8] = [0, 4] + Bytes.host32(set.keyByteOrder)
      if set.isAnonymous && set.flags & KernelSet.interval != 0 { udata += [2, 4] + Bytes.host32(1) }
      _ = udata.withUnsafeBytes {
        nftnl_set_set_data(s, UInt16(NFTNL_SET_USERDATA.rawValue), $0.baseAddress, UInt32(udata.count))
      }
      nftnl_set_nlmsg_build_payload(nlh, s)
    }
    if !set.elements.isEmpty {
      let s = make()
      defer { nftnl_set_free(s) }
      for element in set.elements {
        let e = nftnl_set_elem_alloc()!
        _ = element.key.withUnsafeBytes {
          nftnl_set_elem_set(e, UInt16(NFTNL_SET_ELEM_KEY), $0.baseAddress, UInt32(element.key.count))
        }
        if element.intervalEnd {
          nftnl_set_elem_set_u32(e, UInt16(NFTNL_SET_ELEM_FLAGS), UInt32(NFT_SET_ELEM_INTERVAL_END.rawValue))
        }
        nftnl_set_elem_add(s, e)
      }
      addElements(
        of: s, family: family, origin: .init(operation: "add elements to", object: object, location: set.location))
    }
    return (set.name, id)
  }

  /// `NEWSETELEM` messages for every element of `s`, split so each nested list stays under 64 KiB.
  func addElements(of s: OpaquePointer, family: UInt16, origin: Origin) {
    let iter = nftnl_set_elems_iter_create(s)!
    defer { nftnl_set_elems_iter_destroy(iter) }
    var more = true
    while more {
      add(NFT_MSG_NEWSETELEM, family: family, flags: NLM_F_CREATE, origin: origin) { nlh in
        more = nftnl_set_elems_nlmsg_build_payload_iter(nlh, iter) > 0
      }
    }
  }

  static func buildTable(_ id: TableID, into nlh: UnsafeMutablePointer<nlmsghdr>) {
    let t = nftnl_table_alloc()!
    defer { nftnl_table_free(t) }
    nftnl_table_set_str(t, UInt16(NFTNL_TABLE_NAME.rawValue), id.name)
    nftnl_table_set_u32(t, UInt16(NFTNL_TABLE_FAMILY.rawValue), UInt32(id.family.nfproto))
    nftnl_table_nlmsg_build_payload(nlh, t)
  }

  /// `NF_INET_*` hook numbers (ingress is `NF_INET_INGRESS` in an inet table): the kernel numbers
  /// hooks in the order `Hook` declares them.
  static func hookNumber(_ hook: Hook) -> UInt32 { UInt32(hook.ordinal) }

  /// nft's rule comment: one TLV, `NFTNL_UDATA_RULE_COMMENT` (0), with the terminating NUL.
  static func commentUserdata(_ comment: String) -> [UInt8] {
    let text = Array(comment.utf8.prefix(253)) + [0]
    return [0, UInt8(text.count)] + text
  }

  /// A named set of the model as the kernel gets it.
  static func kernelSet(_ set: NamedSet) -> KernelSet {
    let (type, length, order): (UInt32, UInt32, UInt32)
    switch set.type {
    case .ipv4Address: (type, length, order) = (DataType.ipv4Address, 4, DataType.bigEndian)
    case .ipv6Address: (type, length, order) = (DataType.ipv6Address, 16, DataType.bigEndian)
    case .inetService: (type, length, order) = (DataType.inetService, 2, DataType.bigEndian)
    case .inetProto: (type, length, order) = (DataType.inetProtocol, 1, DataType.bigEndian)
    case .interfaceName: (type, length, order) = (DataType.interfaceName, 16, DataType.hostOrder)
    case .etherAddress: (type, length, order) = (DataType.etherAddress, 6, DataType.bigEndian)
    }
    let interval = set.needsInterval
    let ranges: [([UInt8], [UInt8])] = set.elements.map { element in
      switch element {
      case .address(let a): return (Bytes.address(a.bounds.0), Bytes.address(a.bounds.1))
      case .port(let p): return (Bytes.be16(p.first), Bytes.be16(p.last))
      case .proto(let p): return ([p], [p])
      case .interface(let i): return (Bytes.interfaceName(i.name), Bytes.interfaceName(i.name))
      case .ether(let m): return (m.octets, m.octets)
      }
    }
    let elements =
      interval
      ? KernelSet.intervalElements(ranges)
      : ranges.map(\.0).sorted { $0.lexicographicallyPrecedes($1) }.map { KernelSet.Element(key: $0) }
    return KernelSet(
      name: set.name, keyType: type, keyLength: length, keyByteOrder: order, flags: interval ? KernelSet.interval : 0,
      elements: elements, location: set.location)
  }
}
