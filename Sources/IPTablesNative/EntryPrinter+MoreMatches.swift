import CIPTC
import Foundation

extension EntryPrinter {
  /// The matches of the conntrack, socket, routing and header families, and the stateful ones,
  /// as their `save` functions print them; nil for an unknown one.
  func moreMatch(_ name: String, _ revision: UInt8, _ payload: [UInt8]) -> [String]? {
    func not(_ inverted: Bool) -> String { inverted ? "! " : "" }
    switch (name, revision) {
    case ("owner", 1):
      let info = payload.load(xt_owner_match_info.self, at: 0)
      let (present, inverse) = (Int(info.match), Int(info.invert))
      func ids(_ low: UInt32, _ high: UInt32) -> String { low == high ? "\(low)" : "\(low)-\(high)" }
      var parts: [String] = []
      for (flag, option, value) in [
        (XT_OWNER_SOCKET, "--socket-exists", nil), (XT_OWNER_UID, "--uid-owner", ids(info.uid_min, info.uid_max)),
        (XT_OWNER_GID, "--gid-owner", ids(info.gid_min, info.gid_max)), (XT_OWNER_SUPPL_GROUPS, "--suppl-groups", nil),
      ] where present & flag != 0 {
        parts.append(not(inverse & flag != 0) + option + (value.map { " " + $0 } ?? ""))
      }
      return parts
    case ("connmark", 1):
      let info = payload.load(xt_connmark_mtinfo1.self, at: 0)
      return [not(info.invert != 0) + "--mark " + mark(info.mark, info.mask, always: false)]
    case ("addrtype", 1):
      let info = payload.load(xt_addrtype_info_v1.self, at: 0)
      let flags = Int(info.flags)
      func types(_ bits: UInt16) -> String {
        IPTConstants.addressTypes.filter { bits & $0.1 != 0 }.map(\.0).joined(separator: ",")
      }
      var parts: [String] = []
      if info.source != 0 {
        parts.append(not(flags & XT_ADDRTYPE_INVERT_SOURCE != 0) + "--src-type " + types(info.source))
      }
      if info.dest != 0 { parts.append(not(flags & XT_ADDRTYPE_INVERT_DEST != 0) + "--dst-type " + types(info.dest)) }
      if flags & XT_ADDRTYPE_LIMIT_IFACE_IN != 0 { parts.append("--limit-iface-in") }
      if flags & XT_ADDRTYPE_LIMIT_IFACE_OUT != 0 { parts.append("--limit-iface-out") }
      return parts
    case ("pkttype", 0):
      let info = payload.load(xt_pkttype_info.self, at: 0)
      let type = IPTConstants.packetTypeOrder.first { $0.1 == info.pkttype }?.0 ?? "\(info.pkttype)"
      return [not(info.invert != 0) + "--pkt-type " + type]
    case ("length", 0):
      let info = payload.load(xt_length_info.self, at: 0)
      return [not(info.invert != 0) + "--length " + (info.min == info.max ? "\(info.min)" : "\(info.min):\(info.max)")]
    case ("ttl", 0) where family == .ipv4, ("hl", 0) where family == .ipv6:
      // struct ipt_ttl_info / ip6t_hl_info: mode, value.
      let (mode, value) = payload.load((UInt8, UInt8).self, at: 0)
      guard mode <= 3 else { return nil }
      return [(mode == 1 ? "! " : "") + "--\(name)-\(["eq", "eq", "lt", "gt"][Int(mode)]) \(value)"]
    case ("tos", 1):
      let info = payload.load(xt_tos_match_info.self, at: 0)
      return [not(info.invert != 0) + "--tos " + hex2(info.tos_value) + "/" + hex2(info.tos_mask)]
    case ("dscp", 0):
      let info = payload.load(xt_dscp_info.self, at: 0)
      return [not(info.invert != 0) + "--dscp " + hex2(info.dscp)]
    case ("statistic", 0):
      let info = payload.load(xt_statistic_info.self, at: 0)
      let negated = not(UInt32(info.flags) & XT_STATISTIC_INVERT.rawValue != 0)
      switch UInt32(info.mode) {
      case XT_STATISTIC_MODE_RANDOM.rawValue:
        let probability = Double(info.u.random.probability) / 0x8000_0000
        return ["--mode random", negated + "--probability " + String(format: "%.11f", probability)]
      case XT_STATISTIC_MODE_NTH.rawValue:
        return ["--mode nth", negated + "--every \(UInt64(info.u.nth.every) + 1)", "--packet \(info.u.nth.packet)"]
      default:
        return nil
      }
    case ("recent", 1):
      return recent(payload.load(xt_recent_mtinfo_v1.self, at: 0))
    case ("hashlimit", 3):
      return hashlimit(payload.load(xt_hashlimit_mtinfo3.self, at: 0))
    default:
      return nil
    }
  }

  /// `-m recent` options in libxt_recent's order.
  func recent(_ info: xt_recent_mtinfo_v1) -> [String] {
    var parts: [String] = []
    let check = Int(info.check_set)
    for (flag, option) in [
      (XT_RECENT_SET, "--set"), (XT_RECENT_CHECK, "--rcheck"), (XT_RECENT_UPDATE, "--update"),
      (XT_RECENT_REMOVE, "--remove"),
    ] where check & flag != 0 {
      parts.append((info.invert != 0 && parts.isEmpty ? "! " : "") + option)
    }
    if info.seconds != 0 { parts.append("--seconds \(info.seconds)") }
    if check & XT_RECENT_REAP != 0 { parts.append("--reap") }
    if info.hit_count != 0 { parts.append("--hitcount \(info.hit_count)") }
    if check & XT_RECENT_TTL != 0 { parts.append("--rttl") }
    parts.append("--name " + Bytes.string(Bytes.array(info.name)))
    parts.append("--mask " + Bytes.address(Array(Bytes.array(info.mask).prefix(family.addressLength))))
    if Int(info.side) == XT_RECENT_SOURCE { parts.append("--rsource") }
    if Int(info.side) == XT_RECENT_DEST { parts.append("--rdest") }
    return parts
  }

  /// `-m hashlimit` options in libxt_hashlimit's order; the expire time is left out when it is
  /// the one the rate implies.
  func hashlimit(_ info: xt_hashlimit_mtinfo3) -> [String] {
    let cfg = info.cfg
    let mode = Int(cfg.mode)
    var parts: [String] = []
    let option = mode & XT_HASHLIMIT_INVERT != 0 ? "--hashlimit-above " : "--hashlimit-upto "
    let implied: UInt64
    if mode & XT_HASHLIMIT_BYTES != 0 {
      let (rate, burst) = byteRate(cost: cfg.avg, burst: cfg.burst)
      parts.append(option + rate)
      if let burst { parts.append("--hashlimit-burst " + burst) }
      implied = (burst == nil ? 15 : 60) * 1000
    } else {
      let (rate, seconds) = hashlimitRate(cfg.avg)
      parts += [option + rate, "--hashlimit-burst \(cfg.burst)"]
      implied = seconds * 1000
    }
    let fields = IPTConstants.hashlimitFields.filter { cfg.mode & $0.1 != 0 }.map(\.0)
    if !fields.isEmpty { parts.append("--hashlimit-mode " + fields.joined(separator: ",")) }
    parts.append("--hashlimit-name " + Bytes.string(Bytes.array(info.name)))
    if cfg.size != 0 { parts.append("--hashlimit-htable-size \(cfg.size)") }
    if cfg.max != 0 { parts.append("--hashlimit-htable-max \(cfg.max)") }
    if cfg.gc_interval != 1000 { parts.append("--hashlimit-htable-gcinterval \(cfg.gc_interval)") }
    if UInt64(cfg.expire) != implied { parts.append("--hashlimit-htable-expire \(cfg.expire)") }
    let hostBits: UInt8 = family == .ipv4 ? 32 : 128
    if cfg.srcmask != hostBits { parts.append("--hashlimit-srcmask \(cfg.srcmask)") }
    if cfg.dstmask != hostBits { parts.append("--hashlimit-dstmask \(cfg.dstmask)") }
    if mode & XT_HASHLIMIT_RATE_MATCH != 0 {
      parts.append("--hashlimit-rate-match")
      if cfg.interval != 1 { parts.append("--hashlimit-rate-interval \(cfg.interval)") }
    }
    return parts
  }

  /// A packet rate as libxt_hashlimit prints it (`10/sec`), with the unit's seconds.
  func hashlimitRate(_ period: UInt64) -> (String, UInt64) {
    let units: [(String, UInt64)] = [("day", 86400), ("hour", 3600), ("min", 60), ("sec", 1)]
    guard period > 0 else { return ("inf", 0) }
    var i = 1
    while i < units.count {
      let scaled = 1_000_000 * units[i].1
      if period > scaled || scaled / period < scaled % period { break }
      i += 1
    }
    return ("\(1_000_000 * units[i - 1].1 / period)/\(units[i - 1].0)", units[i - 1].1)
  }

  /// A byte rate (`100kb/s`) and its burst (`1mb`, nil when there is none), as libxt_hashlimit
  /// prints them: the largest unit that gives the same cost back.
  func byteRate(cost: UInt64, burst: UInt64) -> (String, String?) {
    let units: [(String, UInt64)] = [("m", 1024 * 1024), ("k", 1024), ("", 1)]
    let bytes = IPTHashLimit.bytes(cost: cost)
    let unit =
      units.dropLast().first { bytes >= $0.1 && IPTHashLimit.cost(bytes: bytes & ~($0.1 - 1)) == cost } ?? units[2]
    let rate = "\(bytes / unit.1)\(unit.0)b/s"
    guard burst != 0 else { return (rate, nil) }
    let total = bytes &* burst
    let burstUnit = units.dropLast().first { total >= $0.1 } ?? units[2]
    return (rate, "\(total / burstUnit.1)\(burstUnit.0)b")
  }
}
