import NetfilterModel

/// Which relational expressions the model holds exactly, and as what.
extension NFTRuleReader {
  /// The model match for `SELECTOR [& MASK] [OP] VALUE`, or nil when the model cannot say it
  /// exactly (the part then stays as written).
  func modelMatch(_ selector: Selector, _ masks: [(op: String, value: NFTValue)], _ op: String?, _ value: NFTValue)
    -> (Match.Kind, Bool)?
  {
    guard !selector.concatenated else { return nil }
    let words = selector.words
    if !masks.isEmpty {
      guard masks.count == 1, masks[0].op == "&", op == nil || op == "==" || op == "!=" else { return nil }
      let negated = op == "!="
      switch words {
      case ["mark"], ["ct", "mark"]:
        guard let mask = NFTValues.mark(masks[0].value), let v = NFTValues.mark(value) else { return nil }
        let m: UInt32? = mask == .max ? nil : mask
        return (words == ["mark"] ? .mark(value: v, mask: m) : .ctMark(value: v, mask: m), negated)
      case ["tcp", "flags"]:
        guard let mask = NFTValues.tcpFlags(masks[0].value), let v = NFTValues.tcpFlags(value) else { return nil }
        return (.tcpFlags(value: v, mask: mask), negated)
      default: return nil
      }
    }
    switch words {
    case ["tcp", "flags"]: return tcpFlags(op, value)
    case ["ct", "state"]: return ctState(op, value)
    default: break
    }
    if let op, ["<", ">", "<=", ">="].contains(op) {
      guard words.count == 2, let proto = TransportProtocol(rawValue: words[0]),
        words[1] == "sport" || words[1] == "dport",
        let bound = NFTValues.port(value), bound.isSinglePort
      else { return nil }
      let p = Int(bound.first)
      let (lo, hi): (Int, Int)
      switch op {
      case "<": (lo, hi) = (0, p - 1)
      case "<=": (lo, hi) = (0, p)
      case ">": (lo, hi) = (p + 1, 65535)
      default: (lo, hi) = (p, 65535)
      }
      guard lo <= hi else { return nil }
      return (
        .port(proto, words[1] == "sport" ? .source : .destination, .single(PortRange(UInt16(lo), UInt16(hi)))), false
      )
    }
    guard op == nil || op == "==" || op == "!=" else { return nil }
    let negated = op == "!="
    switch words {
    case ["ip", "saddr"], ["ip", "daddr"], ["ip6", "saddr"], ["ip6", "daddr"]:
      let version: IPVersion = words[0] == "ip" ? .v4 : .v6
      guard
        let o = operand(value, version == .v4 ? .ipv4Address : .ipv6Address, { NFTValues.address($0) }),
        o.inlineElements.allSatisfy({ $0.version == version })
      else { return nil }
      return (.address(version, words[1] == "saddr" ? .source : .destination, o), negated)
    case ["ip", "protocol"], ["ip6", "nexthdr"], ["meta", "l4proto"]:
      let field: ProtocolField = words[0] == "ip" ? .ipProtocol : words[0] == "ip6" ? .ip6NextHeader : .metaL4proto
      return operand(value, .inetProto, NFTValues.proto).map { (.l4proto(field, $0), negated) }
    case ["tcp", "sport"], ["tcp", "dport"], ["udp", "sport"], ["udp", "dport"]:
      let proto = TransportProtocol(rawValue: words[0])!
      return operand(value, .inetService, NFTValues.port).map {
        (.port(proto, words[1] == "sport" ? .source : .destination, $0), negated)
      }
    case ["icmp", "type"], ["icmpv6", "type"], ["icmp", "code"], ["icmpv6", "code"]:
      let version: IPVersion = words[0] == "icmp" ? .v4 : .v6
      let table = words[1] == "type" ? ProtocolNames.icmpTypeTable(version) : ProtocolNames.icmpCodeTable(version)
      guard let o = operand(value, nil, { NFTValues.named($0, in: table) }) else { return nil }
      return (words[1] == "type" ? .icmpType(version, o) : .icmpCode(version, o), negated)
    case ["iifname"], ["oifname"]:
      return operand(value, .interfaceName, NFTValues.interface).map {
        (.interface(words[0] == "iifname" ? .input : .output, $0), negated)
      }
    case ["iif"], ["oif"]:
      return operand(value, nil, { NFTValues.interface($0).flatMap { $0.isWildcard ? nil : $0.name } }).map {
        (.interfaceIndex(words[0] == "iif" ? .input : .output, $0), negated)
      }
    case ["meta", "nfproto"]:
      let versions: [String: IPVersion] = ["ipv4": .v4, "ipv6": .v6, "2": .v4, "10": .v6]
      guard let version = value.atomText.flatMap({ versions[$0] }) else { return nil }
      return (.nfproto(version), negated)
    case ["mark"]:
      return NFTValues.mark(value).map { (.mark(value: $0, mask: nil), negated) }
    case ["ct", "mark"]:
      return NFTValues.mark(value).map { (.ctMark(value: $0, mask: nil), negated) }
    case ["fib", "saddr", "type"], ["fib", "daddr", "type"]:
      return operand(value, nil, { $0.atomText.flatMap(AddressType.init(rawValue:)) }).flatMap { o in
        guard !o.inlineElements.isEmpty else { return nil }
        return (.addressType(words[1] == "saddr" ? .source : .destination, Set(o.inlineElements)), negated)
      }
    case ["ether", "saddr"]:
      return operand(value, .etherAddress, NFTValues.mac).map { (.etherSource($0), negated) }
    default:
      return nil
    }
  }

  /// One value, an anonymous set (nested sets flattened; one element is a single value, as nft
  /// lists it) or a named set the model holds with elements of `setType`.
  func operand<T>(_ value: NFTValue, _ setType: SetType?, _ element: (NFTValue) -> T?) -> Operand<T>? {
    switch value {
    case .named(let name, _):
      guard let setType, context.sets[name] == setType else { return nil }
      return .named(name)
    case .set:
      var elements: [T] = []
      for e in value.setElements ?? [] {
        guard let converted = element(e) else { return nil }
        elements.append(converted)
      }
      if elements.isEmpty { return nil }
      return elements.count == 1 ? .single(elements[0]) : .set(elements)
    default:
      return element(value).map { .single($0) }
    }
  }

  /// `ct state` is one bit per packet: a flag list without an operator tests any of them
  /// (`established,related`), a set holds one of its values, `!` none of them; `==` or `!=` with
  /// two or more flags compares with their sum, which no packet has (kept as written).
  func ctState(_ op: String?, _ value: NFTValue) -> (Match.Kind, Bool)? {
    if case .set = value {
      guard op == nil || op == "==" || op == "!=" else { return nil }
      var states = Set<CTState>()
      for e in value.setElements ?? [] {
        guard let s = NFTValues.ctState(e) else { return nil }
        states.insert(s)
      }
      return states.isEmpty ? nil : (.ctState(states), op == "!=")
    }
    var states = Set<CTState>()
    for item in value.flagItems {
      guard let s = NFTValues.ctState(item) else { return nil }
      states.insert(s)
    }
    guard !states.isEmpty else { return nil }
    switch op {
    case nil: return (.ctState(states), false)
    case "!": return (.ctState(states), true)
    case "==", "!=": return states.count == 1 ? (.ctState(states), op == "!=") : nil
    default: return nil
    }
  }

  /// nft 1.0's `tcp flags` forms: `syn / syn,ack` compares under a mask; a bare list holds when
  /// any of the flags is set (one flag: it is set); `==`/`!=` compare all eight bits; `! fin,rst`
  /// holds when none is set. A set of flag values is kept as written.
  func tcpFlags(_ op: String?, _ value: NFTValue) -> (Match.Kind, Bool)? {
    let all = TCPFlags(rawValue: 0xff)
    if case .slash(let v, let m) = value {
      guard op == nil || op == "==" || op == "!=", let flags = NFTValues.tcpFlags(v), let mask = NFTValues.tcpFlags(m)
      else { return nil }
      return (.tcpFlags(value: flags, mask: mask), op == "!=")
    }
    if case .set = value { return nil }
    guard let flags = NFTValues.tcpFlags(value) else { return nil }
    switch op {
    case nil:
      guard !flags.isEmpty else { return nil }
      if flags.flagNames.count == 1 { return (.tcpFlags(value: flags, mask: flags), false) }
      return (.tcpFlags(value: [], mask: flags), true)
    case "!": return flags.isEmpty ? nil : (.tcpFlags(value: [], mask: flags), false)
    case "==": return (.tcpFlags(value: flags, mask: all), false)
    case "!=": return (.tcpFlags(value: flags, mask: all), true)
    default: return nil
    }
  }
}
