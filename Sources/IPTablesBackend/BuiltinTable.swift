import NetfilterModel

/// One of the fixed tables of iptables (`filter`, `nat`, `mangle`, `raw`, `security`): its builtin
/// chains, the hook priority they run at and the chain types they stand for.
struct BuiltinTable: Hashable, Sendable {
  /// The table name as `iptables -t` takes it.
  var name: String
  /// The builtin chains' hooks in the order the kernel (and `iptables-save`) lists them.
  var hooks: [Hook]

  /// All tables, in the order `iptables-nft-save` prints them (`iptables-legacy-save` prints
  /// tables in reverse order of their creation in the namespace instead).
  static let all: [BuiltinTable] = [
    BuiltinTable(name: "mangle", hooks: [.prerouting, .input, .forward, .output, .postrouting]),
    BuiltinTable(name: "security", hooks: [.input, .forward, .output]),
    BuiltinTable(name: "raw", hooks: [.prerouting, .output]),
    BuiltinTable(name: "filter", hooks: [.input, .forward, .output]),
    BuiltinTable(name: "nat", hooks: [.prerouting, .input, .output, .postrouting]),
  ]

  /// The table with this name.
  static func named(_ name: String) -> BuiltinTable? { all.first { $0.name == name } }

  /// The fixed priority of this table's chain on `hook` (`NF_IP_PRI_*`).
  func priority(on hook: Hook) -> Int {
    switch name {
    case "raw": return -300
    case "mangle": return -150
    case "nat": return hook == .prerouting || hook == .output ? -100 : 100
    case "security": return 50
    default: return 0
    }
  }

  /// The base chain types this table's chain on `hook` can stand for.
  func chainTypes(on hook: Hook) -> [ChainType] {
    switch name {
    case "nat": return [.nat]
    case "mangle": return hook == .output ? [.filter, .route] : [.filter]
    default: return [.filter]
    }
  }

  /// The names of builtin chains, which regular chains may not take.
  static let builtinChainNames: Set<String> = ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"]

  /// Standard verdicts and target extensions installed with iptables; a chain by such a name
  /// cannot be told apart from the target in `-j NAME`.
  static let targetNames: Set<String> = [
    "ACCEPT", "DROP", "RETURN", "QUEUE", "CONTINUE", "ERROR", "AUDIT", "CHECKSUM", "CLASSIFY",
    "CLUSTERIP", "CONNMARK", "CONNSECMARK", "CT", "DNAT", "DNPT", "DSCP", "ECN", "HL", "HMARK",
    "IDLETIMER", "LED", "LOG", "MARK", "MASQUERADE", "NETMAP", "NFLOG", "NFQUEUE", "NOTRACK",
    "RATEEST", "REDIRECT", "REJECT", "SECMARK", "SET", "SNAT", "SNPT", "SYNPROXY", "TCPMSS",
    "TCPOPTSTRIP", "TEE", "TOS", "TPROXY", "TRACE", "TTL", "ULOG",
  ]

  /// The longest user chain name iptables accepts (`XT_EXTENSION_MAXNAMELEN` − 1 − 0).
  static let maximumChainNameLength = 28
}
