import NetfilterModel

extension SaveReader {
  /// Why a module is kept opaque: not modelled at all, or an option the model cannot express.
  enum Refusal: Error {
    case notModelled
    case option(String)
    case reason(String)
  }

  /// Modules that are understood exactly (with the options `match` reads).
  static let exactModules: Set<String> = [
    "tcp", "udp", "icmp", "icmp6", "multiport", "state", "conntrack", "iprange", "mac", "mark", "connmark", "comment",
    "limit", "physdev", "addrtype",
  ]

  /// Adds the matches of `-m NAME …` to the rule: exact ones, or the module as an opaque match
  /// with a warning.
  mutating func readMatch(_ ext: SaveExtension, proto: UInt8?, into rule: inout Rule, implicit: Bool = false) {
    let at = location(ext.token.column)
    do {
      guard Self.exactModules.contains(ext.name) else { throw Refusal.notModelled }
      if ext.name == "comment" {
        guard let option = ext.options.first, option.name == "--comment", ext.options.count == 1, !option.negated
        else { throw Refusal.option(ext.options.first?.name ?? "(none)") }
        rule.comment = option.value
        return
      }
      rule.matches += try matches(ext, proto: proto, at: at)
    } catch let refusal as Refusal {
      let why: String
      switch refusal {
      case .notModelled: why = "the \(ext.name) match is not modelled"
      case .option(let o): why = "option \(o) of the \(ext.name) match is not modelled"
      case .reason(let r): why = r
      }
      let written = text(ext.start, ext.end)
      rule.matches.append(
        Match(
          .opaque(OpaqueMatch(module: ext.name, text: implicit ? "-m \(ext.name) " + written : written)), location: at))
      warn("\(why): kept as written; packets reaching this rule get verdict unknown", ext.token.column)
    } catch {}
  }

  func matches(_ ext: SaveExtension, proto: UInt8?, at: SourceLocation) throws -> [Match] {
    var result: [Match] = []
    func add(_ kind: Match.Kind, _ option: SaveOption) {
      result.append(Match(kind, negated: option.negated, location: location(option.token.column)))
    }
    for option in ext.options {
      switch (ext.name, option.name) {
      case ("tcp", "--sport"), ("tcp", "--source-port"), ("udp", "--sport"), ("udp", "--source-port"),
        ("tcp", "--dport"), ("tcp", "--destination-port"), ("udp", "--dport"), ("udp", "--destination-port"):
        guard let range = Self.portRange(option.value) else { throw Refusal.option(option.name) }
        let p: TransportProtocol = ext.name == "tcp" ? .tcp : .udp
        add(.port(p, option.name.hasPrefix("--s") ? .source : .destination, .single(range)), option)
      case ("tcp", "--tcp-flags"):
        guard option.values.count == 2, let mask = Self.tcpFlags(option.values[0].text),
          let value = Self.tcpFlags(option.values[1].text)
        else { throw Refusal.option(option.name) }
        add(.tcpFlags(value: value, mask: mask), option)
      case ("addrtype", "--src-type"), ("addrtype", "--dst-type"):
        // `--limit-iface-in/out` fall to the default: the whole match stays opaque.
        var types = Set<AddressType>()
        for name in option.value.split(separator: ",") {
          guard let t = AddressType(rawValue: name.lowercased()) else { throw Refusal.option(option.name) }
          types.insert(t)
        }
        // ip6tables means other things by most lists (see `AddressType.ip6tablesAgrees`).
        if version == .v6 && !AddressType.ip6tablesAgrees(types) { throw Refusal.option(option.name) }
        add(.addressType(option.name == "--src-type" ? .source : .destination, types), option)
      case ("tcp", "--syn"):
        add(.tcpFlags(value: .syn, mask: [.fin, .syn, .rst, .ack]), option)
      case ("icmp", "--icmp-type"), ("icmp6", "--icmpv6-type"):
        let v: IPVersion = ext.name == "icmp" ? .v4 : .v6
        guard v == version else {
          throw Refusal.reason("the \(ext.name) match does not apply in an \(version == .v4 ? "IPv4" : "IPv6") dump")
        }
        guard let (type, code) = Self.icmpType(option.value, v) else { throw Refusal.option(option.name) }
        guard let type else { continue }  // `any`
        if let code {
          if option.negated { throw Refusal.option("! \(option.name) TYPE/CODE") }
          add(.icmpType(v, .single(type)), option)
          add(.icmpCode(v, .single(code)), option)
        } else {
          add(.icmpType(v, .single(type)), option)
        }
      case ("multiport", "--sports"), ("multiport", "--source-ports"), ("multiport", "--dports"),
        ("multiport", "--destination-ports"):
        guard let proto, proto == 6 || proto == 17 else { throw Refusal.option("\(option.name) without -p tcp or udp") }
        let ranges = option.value.split(separator: ",").map { Self.portRange(String($0)) }
        guard !ranges.isEmpty, ranges.allSatisfy({ $0 != nil }) else { throw Refusal.option(option.name) }
        let direction: Direction = option.name.hasPrefix("--s") ? .source : .destination
        add(.port(proto == 6 ? .tcp : .udp, direction, .set(ranges.map { $0! })), option)
      case ("state", "--state"), ("conntrack", "--ctstate"):
        var states = Set<CTState>()
        for name in option.value.split(separator: ",") {
          guard let s = CTState(rawValue: name.lowercased()) else { throw Refusal.option("\(option.name) \(name)") }
          states.insert(s)
        }
        add(.ctState(states), option)
      case ("iprange", "--src-range"), ("iprange", "--dst-range"):
        let ends = option.value.split(separator: "-", maxSplits: 1).map { IPAddress(String($0)) }
        guard ends.count == 2, let lo = ends[0], let hi = ends[1], lo.version == hi.version, lo.version == version
        else { throw Refusal.option(option.name) }
        add(.address(version, option.name == "--src-range" ? .source : .destination, .single(.range(lo, hi))), option)
      case ("mac", "--mac-source"):
        guard let mac = MACAddress(option.value) else { throw Refusal.option(option.name) }
        add(.etherSource(.single(mac)), option)
      case ("mark", "--mark"), ("connmark", "--mark"):
        let parts = option.value.split(separator: "/", maxSplits: 1).map { Self.number(String($0)) }
        guard let value = parts.first ?? nil else { throw Refusal.option(option.name) }
        var mask: UInt32? = nil
        if parts.count == 2 {
          guard let m = parts[1] else { throw Refusal.option(option.name) }
          mask = m == .max ? nil : m
        }
        add(ext.name == "mark" ? .mark(value: value, mask: mask) : .ctMark(value: value, mask: mask), option)
      case ("limit", "--limit"), ("limit", "--limit-burst"):
        continue  // read together below
      case ("physdev", "--physdev-in"), ("physdev", "--physdev-out"):
        let name = option.value
        let pattern =
          name.hasSuffix("+")
          ? InterfacePattern(name: String(name.dropLast()), isWildcard: true) : InterfacePattern(name: name)
        add(.bridgePort(option.name == "--physdev-in" ? .input : .output, pattern), option)
      case ("physdev", "--physdev-is-bridged"), ("physdev", "--physdev-is-in"):
        // Bridged packets have an input port wherever the ip hooks see them (xt_physdev): the
        // same test as `--physdev-in +`, which is how the compiler writes it back.
        add(.bridgePort(.input, InterfacePattern(name: "", isWildcard: true)), option)
      case ("physdev", "--physdev-is-out"):
        add(.bridgePort(.output, InterfacePattern(name: "", isWildcard: true)), option)
      default:
        throw Refusal.option(option.name)
      }
    }
    if ext.name == "limit" {
      var limit = RateLimit(rate: 3, unit: .hour)  // libxt_limit's default
      for option in ext.options {
        if option.negated { throw Refusal.option("! \(option.name)") }
        if option.name == "--limit" {
          let parts = option.value.split(separator: "/", maxSplits: 1).map(String.init)
          guard let rate = UInt64(parts[0]) else { throw Refusal.option(option.name) }
          limit.rate = rate
          limit.unit = .second
          if parts.count == 2 {
            switch parts[1] {
            case "s", "sec", "second": limit.unit = .second
            case "m", "min", "minute": limit.unit = .minute
            case "h", "hour": limit.unit = .hour
            case "d", "day": limit.unit = .day
            default: throw Refusal.option(option.name)
            }
          }
        } else {
          guard let burst = UInt32(option.value) else { throw Refusal.option(option.name) }
          limit.burst = burst
        }
      }
      result.append(Match(.limit(limit), location: at))
    }
    return result
  }

  /// `22`, `1000:2000`, `:1023`, `1024:`.
  static func portRange(_ text: String) -> PortRange? {
    let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
    if parts.count == 1 { return UInt16(parts[0]).map { PortRange($0) } }
    let lo = parts[0].isEmpty ? 0 : UInt16(parts[0])
    let hi = parts[1].isEmpty ? UInt16.max : UInt16(parts[1])
    guard let lo, let hi, lo <= hi else { return nil }
    return PortRange(lo, hi)
  }

  /// `SYN,ACK`, `ALL`, `NONE`.
  static func tcpFlags(_ text: String) -> TCPFlags? {
    var flags: TCPFlags = []
    for name in text.split(separator: ",") {
      switch name.uppercased() {
      case "FIN": flags.insert(.fin)
      case "SYN": flags.insert(.syn)
      case "RST": flags.insert(.rst)
      case "PSH": flags.insert(.psh)
      case "ACK": flags.insert(.ack)
      case "URG": flags.insert(.urg)
      case "ALL": flags.formUnion([.fin, .syn, .rst, .psh, .ack, .urg])
      case "NONE": break
      default: return nil
      }
    }
    return flags
  }

  /// `0x10` or `16`.
  static func number(_ text: String) -> UInt32? {
    if text.hasPrefix("0x") || text.hasPrefix("0X") { return UInt32(text.dropFirst(2), radix: 16) }
    return UInt32(text)
  }

  /// The type and code of `--icmp-type 3/4` or a name; type nil for `any`; nil when unknown.
  static func icmpType(_ text: String, _ version: IPVersion) -> (UInt8?, UInt8?)? {
    if text == "any" { return (nil, nil) }
    let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
    if let type = UInt8(parts[0]) {
      if parts.count == 1 { return version == .v4 && type == 255 ? (nil, nil) : (type, nil) }
      guard let code = UInt8(parts[1]) else { return nil }
      return (type, code)
    }
    let names = version == .v4 ? icmpNames : icmpv6Names
    guard parts.count == 1, let (type, code) = names[text] else { return nil }
    return (type, code)
  }

  /// libxt_icmp's names.
  static let icmpNames: [String: (UInt8, UInt8?)] = [
    "echo-reply": (0, nil), "pong": (0, nil), "destination-unreachable": (3, nil), "network-unreachable": (3, 0),
    "host-unreachable": (3, 1), "protocol-unreachable": (3, 2), "port-unreachable": (3, 3),
    "fragmentation-needed": (3, 4), "source-route-failed": (3, 5), "network-unknown": (3, 6), "host-unknown": (3, 7),
    "network-prohibited": (3, 9), "host-prohibited": (3, 10), "TOS-network-unreachable": (3, 11),
    "TOS-host-unreachable": (3, 12), "communication-prohibited": (3, 13), "host-precedence-violation": (3, 14),
    "precedence-cutoff": (3, 15), "source-quench": (4, nil), "redirect": (5, nil), "network-redirect": (5, 0),
    "host-redirect": (5, 1), "TOS-network-redirect": (5, 2), "TOS-host-redirect": (5, 3), "echo-request": (8, nil),
    "ping": (8, nil), "router-advertisement": (9, nil), "router-solicitation": (10, nil), "time-exceeded": (11, nil),
    "ttl-exceeded": (11, nil), "ttl-zero-during-transit": (11, 0), "ttl-zero-during-reassembly": (11, 1),
    "parameter-problem": (12, nil), "ip-header-bad": (12, 0), "required-option-missing": (12, 1),
    "timestamp-request": (13, nil), "timestamp-reply": (14, nil), "address-mask-request": (17, nil),
    "address-mask-reply": (18, nil),
  ]

  /// libxt_icmp's ICMPv6 names.
  static let icmpv6Names: [String: (UInt8, UInt8?)] = [
    "destination-unreachable": (1, nil), "no-route": (1, 0), "communication-prohibited": (1, 1),
    "beyond-scope": (1, 2), "address-unreachable": (1, 3), "port-unreachable": (1, 4), "failed-policy": (1, 5),
    "reject-route": (1, 6), "packet-too-big": (2, nil), "time-exceeded": (3, nil), "ttl-exceeded": (3, nil),
    "ttl-zero-during-transit": (3, 0), "ttl-zero-during-reassembly": (3, 1), "parameter-problem": (4, nil),
    "bad-header": (4, 0), "unknown-header-type": (4, 1), "unknown-option": (4, 2), "echo-request": (128, nil),
    "ping": (128, nil), "echo-reply": (129, nil), "pong": (129, nil), "router-solicitation": (133, nil),
    "router-advertisement": (134, nil), "neighbour-solicitation": (135, nil), "neighbor-solicitation": (135, nil),
    "neighbour-advertisement": (136, nil), "neighbor-advertisement": (136, nil), "redirect": (137, nil),
  ]
}
