import CNftnl

/// One nf_tables expression as the kernel runs it: the `[ … ]` lines `nft --debug=netlink` prints.
/// Loads go to register 1 (`NFT_REG_1`); NAT and `meta set` take their operands from immediates.
enum Expression: Hashable {
  /// `[ payload load LENb @ BASE header + OFFSET => reg 1 ]`
  case payload(base: UInt32, offset: UInt32, length: UInt32)
  /// `[ meta load KEY => reg 1 ]`
  case meta(UInt32)
  /// `[ meta set KEY with reg 1 ]`
  case metaSet(UInt32)
  /// `[ ct load KEY => reg 1 ]`
  case ct(UInt32)
  /// `[ ct set KEY with reg 1 ]`
  case ctSet(UInt32)
  /// `[ fib saddr|daddr type => reg 1 ]` (`NFTA_FIB_F_*` flags, `NFT_FIB_RESULT_*`)
  case fib(flags: UInt32, result: UInt32)
  /// `[ cmp OP reg 1 DATA ]`
  case cmp(UInt32, [UInt8])
  /// `[ bitwise reg 1 = ( reg 1 & MASK ) ^ XOR ]` (the XOR is always zero here, and always sent)
  case bitwise(mask: [UInt8])
  /// `[ range eq|neq reg 1 FROM TO ]`
  case range(negated: Bool, [UInt8], [UInt8])
  /// `[ lookup reg 1 set NAME [0x1] ]`
  case lookup(SetReference, inverted: Bool)
  /// `[ immediate reg N DATA ]`
  case immediate(register: UInt32, [UInt8])
  /// `[ immediate reg 0 VERDICT [-> CHAIN] ]`
  case verdict(Int32, chain: String?)
  /// `[ counter pkts 0 bytes 0 ]`
  case counter
  /// `[ log prefix P level L ]`
  case log(prefix: String?, level: UInt32?)
  /// `[ limit rate R/UNIT burst B type packets|bytes flags F ]`
  case limit(rate: UInt64, unit: UInt64, burst: UInt32, bytes: Bool, inverted: Bool)
  /// `[ reject type T code C ]`
  case reject(type: UInt32, code: UInt8)
  /// `[ nat snat|dnat FAMILY addr_min reg 1 … flags F ]`
  case nat(NATRegisters)
  /// `[ masq proto_min reg 1 proto_max reg 2 flags F ]`
  case masquerade(NATRegisters)
  /// `[ redir proto_min reg 1 flags F ]`
  case redirect(NATRegisters)
}

/// A set a lookup names: a named set of the table, or one of the rule's anonymous sets.
enum SetReference: Hashable {
  case named(String)
  /// Index into the rule's `anonymousSets`.
  case anonymous(Int)
}

/// The registers and flags of a NAT expression (`NFTA_NAT_*`, `NFTA_MASQ_*`, `NFTA_REDIR_*`).
struct NATRegisters: Hashable {
  var type: UInt32 = 0
  var family: UInt32 = 0
  var addressMin: UInt32?
  var addressMax: UInt32?
  var protoMin: UInt32?
  var protoMax: UInt32?
  var flags: UInt32?
}

/// The kernel's constants, with the names nf_tables.h gives them.
enum K {
  static let reg1: UInt32 = 1  // NFT_REG_1
  static let networkHeader = UInt32(NFT_PAYLOAD_NETWORK_HEADER.rawValue)
  static let transportHeader = UInt32(NFT_PAYLOAD_TRANSPORT_HEADER.rawValue)
  static let linkHeader = UInt32(NFT_PAYLOAD_LL_HEADER.rawValue)
  static let eq = UInt32(NFT_CMP_EQ.rawValue)
  static let neq = UInt32(NFT_CMP_NEQ.rawValue)
  static let gte = UInt32(NFT_CMP_GTE.rawValue)
  static let lte = UInt32(NFT_CMP_LTE.rawValue)
  static let metaMark = UInt32(NFT_META_MARK.rawValue)
  static let metaIifname = UInt32(NFT_META_IIFNAME.rawValue)
  static let metaOifname = UInt32(NFT_META_OIFNAME.rawValue)
  static let metaIiftype = UInt32(NFT_META_IFTYPE.rawValue)
  static let metaNfproto = UInt32(NFT_META_NFPROTO.rawValue)
  static let metaL4proto = UInt32(NFT_META_L4PROTO.rawValue)
  static let ctState = UInt32(NFT_CT_STATE.rawValue)
  static let ctMark = UInt32(NFT_CT_MARK.rawValue)
  static let fibSourceAddress = UInt32(NFTA_FIB_F_SADDR.rawValue)
  static let fibDestinationAddress = UInt32(NFTA_FIB_F_DADDR.rawValue)
  static let fibAddressType = UInt32(NFT_FIB_RESULT_ADDRTYPE.rawValue)
}
