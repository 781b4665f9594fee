import CIPTC

extension RestoreParser {
  /// `-j CONNMARK`: one operation (`--set-xmark V/M`, `--set-mark V[/M]`, `--and-mark V`,
  /// `--or-mark V`, `--xor-mark V`, `--save-mark`, `--restore-mark`) with `--mask M` or
  /// `--ctmask M`/`--nfmask M`, and a shift. Options apply in order, as libxt_CONNMARK applies them.
  func connmark(_ options: [Option], _ place: Place) throws(IPTablesNativeError) -> IPTConnmark {
    var connmark = IPTConnmark(mode: .set)
    var operations = 0
    var masks: Set<String> = []
    for option in options {
      try plain(option, "CONNMARK", place)
      switch option.name {
      case "--set-xmark", "--set-mark":
        let mark = try markValue(option.argument, place)
        connmark.mode = .set
        connmark.value = mark.value
        connmark.ctmask = option.name == "--set-xmark" ? mark.mask : mark.value | mark.mask
        operations += 1
      case "--and-mark", "--or-mark", "--xor-mark":
        let bits = try unsigned(option, 0...UInt32.max, place)
        connmark.mode = .set
        switch option.name {
        case "--and-mark": (connmark.value, connmark.ctmask) = (0, ~bits)
        case "--or-mark": (connmark.value, connmark.ctmask) = (bits, bits)
        default: (connmark.value, connmark.ctmask) = (bits, 0)
        }
        operations += 1
      case "--save-mark", "--restore-mark":
        connmark.mode = option.name == "--save-mark" ? .save : .restore
        operations += 1
      case "--mask":
        let mask = try unsigned(option, 0...UInt32.max, place)
        (connmark.ctmask, connmark.nfmask) = (mask, mask)
        masks.insert(option.name)
      case "--ctmask":
        connmark.ctmask = try unsigned(option, 0...UInt32.max, place)
        masks.insert(option.name)
      case "--nfmask":
        connmark.nfmask = try unsigned(option, 0...UInt32.max, place)
        masks.insert(option.name)
      case "--left-shift-mark", "--right-shift-mark":
        connmark.shiftRight = option.name == "--right-shift-mark"
        connmark.shiftBits = UInt8(try unsigned(option, 0...32, place))
      default:
        throw place.error("unsupported option \(option.name) of CONNMARK")
      }
    }
    guard operations == 1 else { throw place.error("CONNMARK takes exactly one operation") }
    if masks.contains("--mask") && masks.count > 1 { throw place.error("--mask excludes --ctmask and --nfmask") }
    return connmark
  }

  /// `-j CT`: `--notrack`, `--helper NAME`, `--ctevents E,…`, `--expevents E,…`,
  /// `--zone[-orig|-reply] ID|mark`.
  func conntrackTemplate(_ options: [Option], _ place: Place) throws(IPTablesNativeError) -> IPTConntrackTemplate {
    var template = IPTConntrackTemplate()
    func events(_ option: Option, _ names: [(String, UInt32)]) throws(IPTablesNativeError) -> UInt32 {
      var bits: UInt32 = 0
      for name in option.argument.split(separator: ",", omittingEmptySubsequences: false) {
        guard let bit = names.first(where: { $0.0 == name })?.1 else { throw place.error("unknown event \(name)") }
        bits |= 1 << bit
      }
      return bits
    }
    for option in options {
      try plain(option, "CT", place)
      switch option.name {
      case "--notrack": template.flags |= UInt16(XT_CT_NOTRACK)
      case "--helper": template.helper = try fixedString(option, size: 16, place)
      case "--ctevents": template.ctEvents = try events(option, IPTConstants.ctEvents)
      case "--expevents": template.expEvents = try events(option, IPTConstants.expectationEvents)
      case "--zone", "--zone-orig", "--zone-reply":
        if option.name == "--zone-orig" { template.flags |= UInt16(XT_CT_ZONE_DIR_ORIG) }
        if option.name == "--zone-reply" { template.flags |= UInt16(XT_CT_ZONE_DIR_REPL) }
        if option.argument.lowercased() == "mark" {
          template.zone = 0
          template.flags |= UInt16(XT_CT_ZONE_MARK)
        } else {
          template.zone = UInt16(try unsigned(option, 0...0xFFFF, place))
        }
      default:
        throw place.error("unsupported option \(option.name) of CT")
      }
    }
    return template
  }

  /// An error unless exactly one of the two options (each a way to say the same thing) is given.
  func exclusive(_ options: [Option], _ a: String, _ b: String, _ place: Place) throws(IPTablesNativeError) {
    guard options.filter({ $0.name == a || $0.name == b }).count == 1 else {
      throw place.error("\(a) and \(b) exclude each other")
    }
  }

  /// `-j NFLOG`: `--nflog-group N`, `--nflog-prefix TEXT`, `--nflog-size N` (or the old
  /// `--nflog-range N`), `--nflog-threshold N`.
  func nflog(_ options: [Option], _ place: Place) throws(IPTablesNativeError) -> IPTNFLog {
    var nflog = IPTNFLog()
    for option in options {
      try plain(option, "NFLOG", place)
      switch option.name {
      case "--nflog-group": nflog.group = UInt16(try unsigned(option, 0...0xFFFF, place))
      case "--nflog-prefix": nflog.prefix = try fixedString(option, size: 64, place)
      case "--nflog-range", "--nflog-size":
        try exclusive(options, "--nflog-size", "--nflog-range", place)
        nflog.length = try unsigned(option, 0...UInt32.max, place)
        nflog.copyLength = option.name == "--nflog-size"
      case "--nflog-threshold": nflog.threshold = UInt16(try unsigned(option, 0...0xFFFF, place))
      default:
        throw place.error("unsupported option \(option.name) of NFLOG")
      }
    }
    return nflog
  }

  /// `-j NFQUEUE`: `--queue-num N` or `--queue-balance A:B`, `--queue-bypass`, `--queue-cpu-fanout`.
  func nfqueue(_ options: [Option], _ place: Place) throws(IPTablesNativeError) -> IPTNFQueue {
    var queue = IPTNFQueue()
    for option in options {
      try plain(option, "NFQUEUE", place)
      switch option.name {
      case "--queue-num", "--queue-balance":
        try exclusive(options, "--queue-num", "--queue-balance", place)
        if option.name == "--queue-num" {
          queue.number = UInt16(try unsigned(option, 0...0xFFFF, place))
        } else {
          let queues = try range(option.argument, max: 0xFFFF, what: "--queue-balance", place)
          guard queues.count > 1 else { throw place.error("--queue-balance needs A:B with A below B") }
          queue.number = UInt16(queues.lowerBound)
          queue.total = UInt16(queues.upperBound - queues.lowerBound + 1)
        }
      case "--queue-bypass": queue.flags |= UInt16(NFQ_FLAG_BYPASS)
      case "--queue-cpu-fanout": queue.flags |= UInt16(NFQ_FLAG_CPU_FANOUT)
      default:
        throw place.error("unsupported option \(option.name) of NFQUEUE")
      }
    }
    return queue
  }
}
