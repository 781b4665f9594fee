import Foundation

extension RestoreParser {
  /// `NEW,ESTABLISHED` as state bits (names in any case).
  func states(_ text: String, _ names: [String: UInt32], _ place: Place) throws(IPTablesNativeError) -> UInt32 {
    var bits: UInt32 = 0
    for state in text.split(separator: ",", omittingEmptySubsequences: false) {
      guard let bit = names[state.uppercased()] else { throw place.error("unknown state \(state)") }
      bits |= bit
    }
    return bits
  }

  /// `[!] --physdev-in P`, `[!] --physdev-out P`, `[!] --physdev-is-in|-is-out|-is-bridged`.
  func physdev(_ options: [Option], _ place: Place) throws(IPTablesNativeError) -> IPTPhysdev {
    try once(options, "physdev", place)
    var physdev = IPTPhysdev()
    for option in options {
      switch option.name {
      case "--physdev-in": physdev.input = IPTNegatable(try interface(option.argument, place), negated: option.negated)
      case "--physdev-out":
        physdev.output = IPTNegatable(try interface(option.argument, place), negated: option.negated)
      case "--physdev-is-in": physdev.isIn = !option.negated
      case "--physdev-is-out": physdev.isOut = !option.negated
      case "--physdev-is-bridged": physdev.isBridged = !option.negated
      default: throw unknown(option, "physdev", place)
      }
    }
    guard !options.isEmpty else { throw place.error("-m physdev needs an option") }
    return physdev
  }

  /// `[!] --uid-owner U[-U]`, `[!] --gid-owner G[-G]`, `--suppl-groups`, `[!] --socket-exists`.
  func owner(_ options: [Option], _ place: Place) throws(IPTablesNativeError) -> IPTOwner {
    try once(options, "owner", place)
    var owner = IPTOwner()
    for option in options {
      switch option.name {
      case "--uid-owner":
        owner.uid = IPTNegatable(
          try ownerRange(option, byName: RestoreParser.userID, place), negated: option.negated)
      case "--gid-owner":
        owner.gid = IPTNegatable(
          try ownerRange(option, byName: RestoreParser.groupID, place), negated: option.negated)
      case "--suppl-groups":
        try plain(option, "owner", place)
        owner.supplementaryGroups = true
      case "--socket-exists": owner.socketExists = !option.negated
      default: throw unknown(option, "owner", place)
      }
    }
    guard !options.isEmpty else { throw place.error("-m owner needs --uid-owner, --gid-owner or --socket-exists") }
    if owner.supplementaryGroups && owner.gid == nil { throw place.error("--suppl-groups needs --gid-owner") }
    return owner
  }

  /// A user or group name (looked up as iptables does, on this machine), or `A`, `A-B`, `A:B`;
  /// ids up to 4294967294 (−1 is reserved).
  func ownerRange(_ option: Option, byName: (String) -> UInt32?, _ place: Place) throws(IPTablesNativeError)
    -> ClosedRange<UInt32>
  {
    if let id = byName(option.argument) { return id...id }
    let parts = option.argument.split(omittingEmptySubsequences: false) { $0 == "-" || $0 == ":" }
    let ids = parts.map { number(String($0)) }
    guard parts.count <= 2, let first = ids[0], let last = ids[ids.count - 1], last < UInt32.max, first <= last else {
      throw place.error("bad \(option.name) \(option.argument)")
    }
    return first...last
  }

  /// The uid of a user name (`getpwnam_r`: parsing may run on several threads).
  static func userID(_ name: String) -> UInt32? {
    var entry = passwd()
    var result: UnsafeMutablePointer<passwd>?
    var buffer = [CChar](repeating: 0, count: 4096)
    guard getpwnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
    return entry.pw_uid
  }

  /// The gid of a group name (`getgrnam_r`).
  static func groupID(_ name: String) -> UInt32? {
    var entry = group()
    var result: UnsafeMutablePointer<group>?
    var buffer = [CChar](repeating: 0, count: 16384)
    guard getgrnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
    return entry.gr_gid
  }

  /// `[!] --src-type T,…`, `[!] --dst-type T,…`, `--limit-iface-in`, `--limit-iface-out`.
  func addressType(_ options: [Option], _ place: Place) throws(IPTablesNativeError) -> IPTAddressType {
    try once(options, "addrtype", place)
    var result = IPTAddressType()
    func types(_ option: Option) throws(IPTablesNativeError) -> IPTNegatable<UInt16> {
      var bits: UInt16 = 0
      for name in option.argument.split(separator: ",", omittingEmptySubsequences: false) {
        guard let bit = IPTConstants.addressTypes.first(where: { $0.0 == name.uppercased() })?.1 else {
          throw place.error("unknown address type \(name)")
        }
        bits |= bit
      }
      return IPTNegatable(bits, negated: option.negated)
    }
    for option in options {
      switch option.name {
      case "--src-type": result.source = try types(option)
      case "--dst-type": result.destination = try types(option)
      case "--limit-iface-in":
        try plain(option, "addrtype", place)
        result.limitInput = true
      case "--limit-iface-out":
        try plain(option, "addrtype", place)
        result.limitOutput = true
      default: throw unknown(option, "addrtype", place)
      }
    }
    guard result.source != nil || result.destination != nil else {
      throw place.error("-m addrtype needs --src-type or --dst-type")
    }
    if result.limitInput && result.limitOutput {
      throw place.error("--limit-iface-in and --limit-iface-out exclude each other")
    }
    return result
  }

  /// `0x10`, `0x10/0x3f`, or a name (`Minimize-Delay`), whose mask leaves the ECN bits alone.
  func tosValue(_ text: String, _ place: Place) throws(IPTablesNativeError) -> IPTTOSValue {
    if let symbol = IPTConstants.tosNames.first(where: { $0.0.caseInsensitiveCompare(text) == .orderedSame }) {
      return IPTTOSValue(value: symbol.1, mask: 0x3F)
    }
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count <= 2, let value = number(String(parts[0])), value <= 0xFF else {
      throw place.error("bad TOS value \(text)")
    }
    guard parts.count == 2 else { return IPTTOSValue(value: UInt8(value)) }
    guard let mask = number(String(parts[1])), mask <= 0xFF else { throw place.error("bad TOS mask \(text)") }
    return IPTTOSValue(value: UInt8(value), mask: UInt8(mask))
  }

  /// `--dscp N` (0…63) or `--dscp-class NAME` (`AF41`, `EF`, `CS1`, …), and their `--set-` forms.
  func dscp(_ option: Option, _ place: Place) throws(IPTablesNativeError) -> UInt8 {
    switch option.name {
    case "--dscp", "--set-dscp":
      return UInt8(try unsigned(option, 0...63, place))
    case "--dscp-class", "--set-dscp-class":
      guard let value = IPTConstants.dscpClasses[option.argument.uppercased()] else {
        throw place.error("unknown DSCP class \(option.argument)")
      }
      return value
    default:
      throw place.error("unsupported option \(option.name) of DSCP")
    }
  }

  /// `--mode random [!] --probability P` or `--mode nth [!] --every N --packet P`.
  func statistic(_ options: [Option], _ place: Place) throws(IPTablesNativeError) -> IPTStatistic {
    try once(options, "statistic", place)
    var mode: String?
    var probability: UInt32?
    var every: UInt32?
    var packet: UInt32?
    var negated = false
    for option in options {
      switch option.name {
      case "--mode":
        try plain(option, "statistic", place)
        guard option.argument == "random" || option.argument == "nth" else {
          throw place.error("bad --mode \(option.argument)")
        }
        mode = option.argument
      case "--probability":
        guard let p = Double(option.argument), p >= 0, p <= 1 else {
          throw place.error("bad --probability \(option.argument) (0…1)")
        }
        probability = UInt32(lround(0x8000_0000 * p))
        negated = option.negated
      case "--every":
        every = try unsigned(option, 1...UInt32.max, place)
        negated = option.negated
      case "--packet":
        try plain(option, "statistic", place)
        packet = try unsigned(option, 0...UInt32.max, place)
      default: throw unknown(option, "statistic", place)
      }
    }
    switch mode {
    case "random":
      guard let probability, every == nil, packet == nil else {
        throw place.error("--mode random takes --probability (only)")
      }
      return IPTStatistic(mode: .random(probability: probability), negated: negated)
    case "nth":
      guard let every, let packet, probability == nil else {
        throw place.error("--mode nth takes --every and --packet")
      }
      guard packet < every else { throw place.error("--packet must be below --every") }
      return IPTStatistic(mode: .nth(every: every, packet: packet), negated: negated)
    default:
      throw place.error("-m statistic needs --mode")
    }
  }

  /// `[!] --set|--rcheck|--update|--remove`, `--seconds N`, `--reap`, `--hitcount N`, `--rttl`,
  /// `--name NAME`, `--mask ADDR`, `--rsource|--rdest`.
  func recent(_ options: [Option], _ place: Place) throws(IPTablesNativeError) -> IPTRecent {
    try once(options, "recent", place)
    var command: IPTRecent.Command?
    var recent = IPTRecent(command: .check)
    for option in options {
      if let c = ["--set": IPTRecent.Command.set, "--rcheck": .check, "--update": .update, "--remove": .remove][
        option.name]
      {
        guard command == nil else { throw place.error("-m recent takes one of --set, --rcheck, --update, --remove") }
        command = c
        recent.negated = option.negated
        continue
      }
      try plain(option, "recent", place)
      switch option.name {
      case "--seconds": recent.seconds = try unsigned(option, 1...UInt32.max, place)
      case "--hitcount": recent.hitCount = try unsigned(option, 0...UInt32.max, place)
      case "--reap": recent.reap = true
      case "--rttl": recent.ttl = true
      case "--name":
        let name = try fixedString(option, size: 200, place)
        guard !name.contains(where: { $0 == "/" || $0 == "\"" || $0 == "'" || $0 == "\\" || $0.isWhitespace }) else {
          throw place.error("bad --name \(name)")
        }
        recent.name = name
      case "--rsource": recent.destination = false
      case "--rdest": recent.destination = true
      case "--mask": recent.mask = try address(option.argument, place)
      default: throw unknown(option, "recent", place)
      }
    }
    guard let command else { throw place.error("-m recent needs one of --set, --rcheck, --update, --remove") }
    recent.command = command
    if recent.reap && recent.seconds == 0 { throw place.error("--reap needs --seconds") }
    if recent.ttl && (command == .set || command == .remove) {
      throw place.error("--rttl goes with --rcheck or --update")
    }
    return recent
  }
}
