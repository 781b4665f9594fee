import NetfilterModel

extension RestoreParser {
  /// `-m NAME OPTIONS`: the match modules of `IPTMatch`, in the forms iptables reads and
  /// iptables-save prints.
  func match(_ name: String, _ options: [Option], _ place: Place) throws(IPTablesNativeError) -> IPTMatch {
    switch name {
    case "tcp", "udp":
      var transport = IPTTransportMatch()
      for option in options {
        switch (option.name, name) {
        case ("--sport", _), ("--source-port", _):
          transport.sourcePorts = IPTNegatable(try portRange(option.argument, place), negated: option.negated)
        case ("--dport", _), ("--destination-port", _):
          transport.destinationPorts = IPTNegatable(try portRange(option.argument, place), negated: option.negated)
        case ("--tcp-flags", "tcp"):
          let flags = IPTTCPFlags(
            mask: try tcpFlags(option.argument, place), compare: try tcpFlags((option.second ?? ""), place))
          transport.flags = IPTNegatable(flags, negated: option.negated)
        default: throw unknown(option, name, place)
        }
      }
      return name == "tcp" ? .tcp(transport) : .udp(transport)
    case "icmp", "icmp6":
      let optionName = name == "icmp" ? "--icmp-type" : "--icmpv6-type"
      guard (name == "icmp") == (family == .ipv4) else { throw place.error("-m \(name) in \(family.rawValue) rules") }
      let option = try single(options, optionName, name, place)
      return .icmp(IPTNegatable(try icmpType(option.argument, place), negated: option.negated))
    case "multiport":
      let option = try single(options, nil, name, place)
      guard option.name == "--sports" || option.name == "--dports" else { throw unknown(option, name, place) }
      var ports: [ClosedRange<UInt16>] = []
      for item in option.argument.split(separator: ",") { ports.append(try portRange(String(item), place)) }
      guard ports.reduce(0, { $0 + ($1.count == 1 ? 1 : 2) }) <= 15 else {
        throw place.error("multiport takes at most 15 ports")
      }
      return .multiport(IPTMultiport(source: option.name == "--sports", ports: ports, negated: option.negated))
    case "conntrack":
      let option = try single(options, "--ctstate", name, place)
      return .conntrack(
        IPTNegatable(try states(option.argument, IPTConstants.ctStates, place), negated: option.negated))
    case "iprange":
      var source: IPTNegatable<IPTAddressRange>?
      var destination: IPTNegatable<IPTAddressRange>?
      for option in options {
        let range = IPTNegatable(try addressRange(option.argument, place), negated: option.negated)
        switch option.name {
        case "--src-range": source = range
        case "--dst-range": destination = range
        default: throw unknown(option, name, place)
        }
      }
      return .iprange(source: source, destination: destination)
    case "mac":
      let option = try single(options, "--mac-source", name, place)
      let bytes = option.argument.split(separator: ":").compactMap { UInt8($0, radix: 16) }
      guard bytes.count == 6 else { throw place.error("bad MAC address \(option.argument)") }
      return .mac(IPTNegatable(bytes, negated: option.negated))
    case "mark":
      let option = try single(options, "--mark", name, place)
      return .mark(IPTNegatable(try markValue(option.argument, place), negated: option.negated))
    case "comment":
      let option = try single(options, "--comment", name, place)
      guard option.argument.utf8.count < 256 else { throw place.error("comment longer than 255 bytes") }
      return .comment(option.argument)
    case "limit":
      var average = IPTConstants.limitScale * 3600 / 3  // iptables' default: 3/hour
      var burst: UInt32 = 5
      for option in options {
        guard !option.negated else { throw place.error("limit options cannot be negated") }
        switch option.name {
        case "--limit": average = try rate(option.argument, place)
        case "--limit-burst":
          guard let b = UInt32(option.argument), b > 0, b <= 10000 else { throw place.error("bad --limit-burst") }
          burst = b
        default: throw unknown(option, name, place)
        }
      }
      return .limit(average: average, burst: burst)
    case "physdev":
      return .physdev(try physdev(options, place))
    case "state":
      let option = try single(options, "--state", name, place)
      return .state(IPTNegatable(try states(option.argument, IPTConstants.stateNames, place), negated: option.negated))
    case "owner":
      return .owner(try owner(options, place))
    case "connmark":
      let option = try single(options, "--mark", name, place)
      return .connmark(IPTNegatable(try markValue(option.argument, place), negated: option.negated))
    case "addrtype":
      return .addrtype(try addressType(options, place))
    case "pkttype":
      let option = try single(options, "--pkt-type", name, place)
      guard let type = IPTConstants.packetTypes[option.argument.lowercased()] else {
        throw place.error("unknown --pkt-type \(option.argument)")
      }
      return .pkttype(IPTNegatable(type, negated: option.negated))
    case "length":
      let option = try single(options, "--length", name, place)
      let range = try self.range(option.argument, max: UInt32(UInt16.max), what: "--length", place)
      return .length(IPTNegatable(UInt16(range.lowerBound)...UInt16(range.upperBound), negated: option.negated))
    case "ttl", "hl":
      guard (name == "ttl") == (family == .ipv4) else { throw place.error("-m \(name) in \(family.rawValue) rules") }
      let option = try single(options, nil, name, place)
      let modes = ["eq": 0, "lt": 2, "gt": 3].map { ("--\(name)-\($0.key)", UInt8($0.value)) }
      guard var mode = modes.first(where: { $0.0 == option.name })?.1 else { throw unknown(option, name, place) }
      if option.negated {
        guard mode == 0 else { throw place.error("\(option.name) cannot be negated") }
        mode = 1
      }
      return .hopLimit(IPTHopLimitMatch(mode: mode, value: UInt8(try unsigned(option, 0...255, place))))
    case "tos":
      let option = try single(options, "--tos", name, place)
      return .tos(IPTNegatable(try tosValue(option.argument, place), negated: option.negated))
    case "dscp":
      let option = try single(options, nil, name, place)
      return .dscp(IPTNegatable(try dscp(option, place), negated: option.negated))
    case "statistic":
      return .statistic(try statistic(options, place))
    case "recent":
      return .recent(try recent(options, place))
    case "hashlimit":
      return .hashlimit(try hashlimit(options, place))
    default:
      throw place.error("unsupported match -m \(name)")
    }
  }

  /// The one option a match takes (`expected`, or any when nil).
  func single(_ options: [Option], _ expected: String?, _ module: String, _ place: Place) throws(IPTablesNativeError)
    -> Option
  {
    guard options.count == 1 else { throw place.error("-m \(module) takes exactly one option here") }
    if let expected, options[0].name != expected { throw unknown(options[0], module, place) }
    return options[0]
  }

  func unknown(_ option: Option, _ module: String, _ place: Place) -> IPTablesNativeError {
    place.error("unsupported option \(option.name) of \(module)")
  }

  /// `--tcp-flags` operand: `SYN,ACK`, `ALL`, `NONE`.
  func tcpFlags(_ text: String, _ place: Place) throws(IPTablesNativeError) -> UInt8 {
    let names: [String: UInt8] = [
      "FIN": 0x01, "SYN": 0x02, "RST": 0x04, "PSH": 0x08, "ACK": 0x10, "URG": 0x20, "ALL": 0x3F, "NONE": 0,
    ]
    var bits: UInt8 = 0
    for name in text.split(separator: ",") {
      guard let bit = names[name.uppercased()] else { throw place.error("unknown TCP flag \(name)") }
      bits |= bit
    }
    return bits
  }

  /// `8`, `8/0`, `3/1`, a type name, or `any` (type 255, every code) for IPv4.
  func icmpType(_ text: String, _ place: Place) throws(IPTablesNativeError) -> IPTICMPType {
    if text == "any" && family == .ipv4 { return IPTICMPType(type: 0xFF) }
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    let table = ProtocolNames.icmpTypeTable(family == .ipv4 ? .v4 : .v6)
    guard let type = UInt8(parts[0]) ?? ProtocolNames.number(String(parts[0]), in: table) else {
      throw place.error("unknown ICMP type \(text)")
    }
    guard parts.count == 2 else { return IPTICMPType(type: type) }
    guard let code = UInt8(parts[1]) else { throw place.error("bad ICMP code \(text)") }
    return IPTICMPType(type: type, codes: code...code)
  }

  /// `--limit N/UNIT` as `xt_rateinfo.avg`: `XT_LIMIT_SCALE` × seconds per unit ÷ N, as libxt_limit computes it.
  func rate(_ text: String, _ place: Place) throws(IPTablesNativeError) -> UInt32 {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard let count = UInt32(parts[0]), count > 0, parts.count <= 2 else { throw place.error("bad rate \(text)") }
    var seconds: UInt32 = 1
    if parts.count == 2 {
      let unit = parts[1].lowercased()
      guard !unit.isEmpty,
        let match = [("second", 1), ("minute", 60), ("hour", 3600), ("day", 86400)].first(where: {
          $0.0.hasPrefix(unit)
        })
      else { throw place.error("bad rate unit in \(text)") }
      seconds = UInt32(match.1)
    }
    let average = IPTConstants.limitScale * seconds / count
    guard average > 0 else { throw place.error("rate too fast: \(text)") }
    return average
  }

}
