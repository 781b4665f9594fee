import CNftnl

/// The one place expressions become libnftnl objects (`nftnl_expr_alloc`, `nftnl_expr_set_*`).
extension Expression {
  /// A new `struct nftnl_expr` for this expression; `sets` resolves anonymous sets to the
  /// (name, id) they have in the batch. The rule it is added to owns it.
  func nftnl(sets: [(name: String, id: UInt32)]) -> OpaquePointer {
    func make(_ name: String) -> OpaquePointer { nftnl_expr_alloc(name)! }
    func u32(_ e: OpaquePointer, _ attr: Int, _ v: UInt32) { nftnl_expr_set_u32(e, UInt16(attr), v) }
    func bytes(_ e: OpaquePointer, _ attr: Int, _ data: [UInt8]) {
      _ = data.withUnsafeBytes { nftnl_expr_set(e, UInt16(attr), $0.baseAddress, UInt32(data.count)) }
    }
    switch self {
    case .payload(let base, let offset, let length):
      let e = make("payload")
      u32(e, NFTNL_EXPR_PAYLOAD_DREG, K.reg1)
      u32(e, NFTNL_EXPR_PAYLOAD_BASE, base)
      u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset)
      u32(e, NFTNL_EXPR_PAYLOAD_LEN, length)
      return e
    case .meta(let key):
      let e = make("meta")
      u32(e, NFTNL_EXPR_META_KEY, key)
      u32(e, NFTNL_EXPR_META_DREG, K.reg1)
      return e
    case .metaSet(let key):
      let e = make("meta")
      u32(e, NFTNL_EXPR_META_KEY, key)
      u32(e, NFTNL_EXPR_META_SREG, K.reg1)
      return e
    case .ct(let key):
      let e = make("ct")
      u32(e, NFTNL_EXPR_CT_KEY, key)
      u32(e, NFTNL_EXPR_CT_DREG, K.reg1)
      return e
    case .fib(let flags, let result):
      let e = make("fib")
      u32(e, NFTNL_EXPR_FIB_DREG, K.reg1)
      u32(e, NFTNL_EXPR_FIB_RESULT, result)
      u32(e, NFTNL_EXPR_FIB_FLAGS, flags)
      return e
    case .ctSet(let key):
      let e = make("ct")
      u32(e, NFTNL_EXPR_CT_KEY, key)
      u32(e, NFTNL_EXPR_CT_SREG, K.reg1)
      return e
    case .cmp(let op, let data):
      let e = make("cmp")
      u32(e, NFTNL_EXPR_CMP_SREG, K.reg1)
      u32(e, NFTNL_EXPR_CMP_OP, op)
      bytes(e, NFTNL_EXPR_CMP_DATA, data)
      return e
    case .bitwise(let mask):
      let e = make("bitwise")
      u32(e, NFTNL_EXPR_BITWISE_SREG, K.reg1)
      u32(e, NFTNL_EXPR_BITWISE_DREG, K.reg1)
      u32(e, NFTNL_EXPR_BITWISE_LEN, UInt32(mask.count))
      bytes(e, NFTNL_EXPR_BITWISE_MASK, mask)
      bytes(e, NFTNL_EXPR_BITWISE_XOR, [UInt8](repeating: 0, count: mask.count))
      return e
    case .range(let negated, let from, let to):
      let e = make("range")
      u32(e, NFTNL_EXPR_RANGE_SREG, K.reg1)
      u32(e, NFTNL_EXPR_RANGE_OP, UInt32((negated ? NFT_RANGE_NEQ : NFT_RANGE_EQ).rawValue))
      bytes(e, NFTNL_EXPR_RANGE_FROM_DATA, from)
      bytes(e, NFTNL_EXPR_RANGE_TO_DATA, to)
      return e
    case .lookup(let set, let inverted):
      let e = make("lookup")
      u32(e, NFTNL_EXPR_LOOKUP_SREG, K.reg1)
      switch set {
      case .named(let name):
        nftnl_expr_set_str(e, UInt16(NFTNL_EXPR_LOOKUP_SET), name)
      case .anonymous(let index):
        nftnl_expr_set_str(e, UInt16(NFTNL_EXPR_LOOKUP_SET), sets[index].name)
        u32(e, NFTNL_EXPR_LOOKUP_SET_ID, sets[index].id)
      }
      if inverted { u32(e, NFTNL_EXPR_LOOKUP_FLAGS, UInt32(NFT_LOOKUP_F_INV.rawValue)) }
      return e
    case .immediate(let register, let data):
      let e = make("immediate")
      u32(e, NFTNL_EXPR_IMM_DREG, register)
      bytes(e, NFTNL_EXPR_IMM_DATA, data)
      return e
    case .verdict(let code, let chain):
      let e = make("immediate")
      u32(e, NFTNL_EXPR_IMM_DREG, UInt32(NFT_REG_VERDICT.rawValue))
      u32(e, NFTNL_EXPR_IMM_VERDICT, UInt32(bitPattern: code))
      if let chain { nftnl_expr_set_str(e, UInt16(NFTNL_EXPR_IMM_CHAIN), chain) }
      return e
    case .counter:
      let e = make("counter")
      nftnl_expr_set_u64(e, UInt16(NFTNL_EXPR_CTR_PACKETS), 0)
      nftnl_expr_set_u64(e, UInt16(NFTNL_EXPR_CTR_BYTES), 0)
      return e
    case .log(let prefix, let level):
      let e = make("log")
      if let prefix { nftnl_expr_set_str(e, UInt16(NFTNL_EXPR_LOG_PREFIX), prefix) }
      if let level { u32(e, NFTNL_EXPR_LOG_LEVEL, level) }
      return e
    case .limit(let rate, let unit, let burst, let isBytes, let inverted):
      let e = make("limit")
      nftnl_expr_set_u64(e, UInt16(NFTNL_EXPR_LIMIT_RATE), rate)
      nftnl_expr_set_u64(e, UInt16(NFTNL_EXPR_LIMIT_UNIT), unit)
      u32(e, NFTNL_EXPR_LIMIT_BURST, burst)
      u32(e, NFTNL_EXPR_LIMIT_TYPE, UInt32((isBytes ? NFT_LIMIT_PKT_BYTES : NFT_LIMIT_PKTS).rawValue))
      u32(e, NFTNL_EXPR_LIMIT_FLAGS, inverted ? UInt32(NFT_LIMIT_F_INV.rawValue) : 0)
      return e
    case .reject(let type, let code):
      let e = make("reject")
      u32(e, NFTNL_EXPR_REJECT_TYPE, type)
      nftnl_expr_set_u8(e, UInt16(NFTNL_EXPR_REJECT_CODE), code)
      return e
    case .nat(let r):
      let e = make("nat")
      u32(e, NFTNL_EXPR_NAT_TYPE, r.type)
      u32(e, NFTNL_EXPR_NAT_FAMILY, r.family)
      if let v = r.addressMin { u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, v) }
      if let v = r.addressMax { u32(e, NFTNL_EXPR_NAT_REG_ADDR_MAX, v) }
      if let v = r.protoMin { u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, v) }
      if let v = r.protoMax { u32(e, NFTNL_EXPR_NAT_REG_PROTO_MAX, v) }
      if let v = r.flags { u32(e, NFTNL_EXPR_NAT_FLAGS, v) }
      return e
    case .masquerade(let r):
      let e = make("masq")
      if let v = r.protoMin { u32(e, NFTNL_EXPR_MASQ_REG_PROTO_MIN, v) }
      if let v = r.protoMax { u32(e, NFTNL_EXPR_MASQ_REG_PROTO_MAX, v) }
      if let v = r.flags { u32(e, NFTNL_EXPR_MASQ_FLAGS, v) }
      return e
    case .redirect(let r):
      let e = make("redir")
      if let v = r.protoMin { u32(e, NFTNL_EXPR_REDIR_REG_PROTO_MIN, v) }
      if let v = r.protoMax { u32(e, NFTNL_EXPR_REDIR_REG_PROTO_MAX, v) }
      if let v = r.flags { u32(e, NFTNL_EXPR_REDIR_FLAGS, v) }
      return e
    }
  }
}
