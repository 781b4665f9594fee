import CIPTC
import Foundation

extension EntryPrinter {
  /// The options of a match as its `save` function prints them; nil for an unknown one.
  func match(_ name: String, _ revision: UInt8, _ payload: [UInt8]) -> [String]? {
    func not(_ inverted: Bool) -> String { inverted ? "! " : "" }
    switch (name, revision) {
    case ("tcp", 0):
      let info = payload.load(xt_tcp.self, at: 0)
      var parts = transport(info.spts, info.dpts, Int32(info.invflags))
      if info.flg_mask != 0 || Int32(info.invflags) & XT_TCP_INV_FLAGS != 0 {
        parts.append(
          not(Int32(info.invflags) & XT_TCP_INV_FLAGS != 0) + "--tcp-flags \(tcpFlags(info.flg_mask)) "
            + tcpFlags(info.flg_cmp))
      }
      return parts
    case ("udp", 0):
      let info = payload.load(xt_udp.self, at: 0)
      return transport(info.spts, info.dpts, Int32(info.invflags))
    case ("icmp", 0), ("icmp6", 0):
      let info = payload.load(ipt_icmp.self, at: 0)
      let option = name == "icmp" ? "--icmp-type" : "--icmpv6-type"
      var type = info.type == 0xFF ? "any" : String(info.type)
      if info.code.0 == info.code.1 { type += "/\(info.code.0)" }
      return [not(Int32(info.invflags) & IPT_ICMP_INV != 0) + option + " " + type]
    case ("multiport", 1):
      let info = payload.load(xt_multiport_v1.self, at: 0)
      let ports = Bytes.array(info.ports).withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }
      let starts = Bytes.array(info.pflags)
      var list: [String] = []
      var i = 0
      while i < Int(info.count) {
        if starts[i] != 0 && i + 1 < Int(info.count) {
          list.append("\(ports[i]):\(ports[i + 1])")
          i += 2
        } else {
          list.append("\(ports[i])")
          i += 1
        }
      }
      let option = ["--sports", "--dports", "--ports"][min(Int(info.flags), 2)]
      return [not(info.invert != 0) + option + " " + list.joined(separator: ",")]
    case ("conntrack", 3):
      let info = payload.load(xt_conntrack_mtinfo3.self, at: 0)
      // `-m state` is stored as conntrack with XT_CONNTRACK_STATE_ALIAS and listed as `--state`.
      let alias = info.match_flags & UInt16(XT_CONNTRACK_STATE_ALIAS) != 0
      guard info.match_flags & ~UInt16(XT_CONNTRACK_STATE_ALIAS) == UInt16(XT_CONNTRACK_STATE) else { return nil }
      let names = IPTConstants.ctStateOrder.filter { UInt32(info.state_mask) & $0.1 != 0 }.map(\.0)
      let option = alias ? "--state " : "--ctstate "
      return [not(info.invert_flags != 0) + option + names.joined(separator: ",")]
    case ("iprange", 1):
      let info = payload.load(xt_iprange_mtinfo.self, at: 0)
      let length = family.addressLength
      func range(_ a: nf_inet_addr, _ b: nf_inet_addr) -> String {
        Bytes.address(Array(Bytes.array(a).prefix(length))) + "-" + Bytes.address(Array(Bytes.array(b).prefix(length)))
      }
      var parts: [String] = []
      let flags = UInt32(info.flags)
      if flags & UInt32(IPRANGE_SRC) != 0 {
        parts.append(not(flags & UInt32(IPRANGE_SRC_INV) != 0) + "--src-range " + range(info.src_min, info.src_max))
      }
      if flags & UInt32(IPRANGE_DST) != 0 {
        parts.append(not(flags & UInt32(IPRANGE_DST_INV) != 0) + "--dst-range " + range(info.dst_min, info.dst_max))
      }
      return parts
    case ("mac", 0):
      let info = payload.load(xt_mac_info.self, at: 0)
      let mac = Bytes.array(info.srcaddr).map { String(format: "%02x", $0) }.joined(separator: ":")
      return [not(info.invert != 0) + "--mac-source " + mac]
    case ("mark", 1):
      let info = payload.load(xt_mark_mtinfo1.self, at: 0)
      return [not(info.invert != 0) + "--mark " + mark(info.mark, info.mask, always: false)]
    case ("comment", 0):
      return ["--comment " + Bytes.saveString(Bytes.string(payload))]
    case ("limit", 0):
      let info = payload.load(xt_rateinfo.self, at: 0)
      return ["--limit " + rate(info.avg)] + (info.burst == 5 ? [] : ["--limit-burst \(info.burst)"])
    case ("physdev", 0):
      let info = payload.load(xt_physdev_info.self, at: 0)
      var parts: [String] = []
      let present = Int32(info.bitmask)
      let inverse = Int32(info.invert)
      let known =
        XT_PHYSDEV_OP_IN | XT_PHYSDEV_OP_OUT | XT_PHYSDEV_OP_BRIDGED | XT_PHYSDEV_OP_ISIN | XT_PHYSDEV_OP_ISOUT
      guard present & ~known == 0 else { return nil }
      if present & XT_PHYSDEV_OP_IN != 0 {
        parts.append(not(inverse & XT_PHYSDEV_OP_IN != 0) + "--physdev-in " + Bytes.string(Bytes.array(info.physindev)))
      }
      if present & XT_PHYSDEV_OP_OUT != 0 {
        parts.append(
          not(inverse & XT_PHYSDEV_OP_OUT != 0) + "--physdev-out " + Bytes.string(Bytes.array(info.physoutdev)))
      }
      // The flag tests, in libxt_physdev's order.
      for (flag, option) in [
        (XT_PHYSDEV_OP_ISIN, "--physdev-is-in"), (XT_PHYSDEV_OP_ISOUT, "--physdev-is-out"),
        (XT_PHYSDEV_OP_BRIDGED, "--physdev-is-bridged"),
      ] where present & flag != 0 {
        parts.append(not(inverse & flag != 0) + option)
      }
      return parts
    default:
      return moreMatch(name, revision, payload)
    }
  }

  /// The name iptables-save lists for a match (`-m state` for conntrack made by `-m state`) or a
  /// target (`-j NOTRACK` for the CT target it made), as the extensions' `alias` functions do.
  func alias(_ name: String, _ revision: UInt8, _ payload: [UInt8], target: Bool) -> String {
    switch (name, revision, target) {
    case ("conntrack", 3, false):
      let flags = payload.load(xt_conntrack_mtinfo3.self, at: 0).match_flags
      return flags & UInt16(XT_CONNTRACK_STATE_ALIAS) != 0 ? "state" : name
    case ("CT", 2, true):
      let flags = payload.load(xt_ct_target_info_v1.self, at: 0).flags
      return Int(flags) & XT_CT_NOTRACK_ALIAS != 0 ? "NOTRACK" : name
    default:
      return name
    }
  }

  /// `--sport`/`--dport` of tcp and udp (the INV bits have the same values in both).
  func transport(_ sports: (UInt16, UInt16), _ dports: (UInt16, UInt16), _ inverse: Int32) -> [String] {
    var parts: [String] = []
    func range(_ r: (UInt16, UInt16)) -> String { r.0 == r.1 ? "\(r.0)" : "\(r.0):\(r.1)" }
    if sports != (0, UInt16.max) || inverse & XT_TCP_INV_SRCPT != 0 {
      parts.append((inverse & XT_TCP_INV_SRCPT != 0 ? "! " : "") + "--sport " + range(sports))
    }
    if dports != (0, UInt16.max) || inverse & XT_TCP_INV_DSTPT != 0 {
      parts.append((inverse & XT_TCP_INV_DSTPT != 0 ? "! " : "") + "--dport " + range(dports))
    }
    return parts
  }

  /// `SYN,ACK` in libxt_tcp's order, or `NONE`.
  func tcpFlags(_ flags: UInt8) -> String {
    let names: [(String, UInt8)] = [("FIN", 1), ("SYN", 2), ("RST", 4), ("PSH", 8), ("ACK", 16), ("URG", 32)]
    let set = names.filter { flags & $0.1 != 0 }.map(\.0)
    return set.isEmpty ? "NONE" : set.joined(separator: ",")
  }

  /// `0x1f` (`%x`).
  func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }

  /// `0x0a` (`0x%02x`).
  func hex2(_ value: UInt8) -> String { String(format: "0x%02x", value) }

  /// `0x10`, `0x100/0xff00`; the mask is left out when it is all ones unless `always`.
  func mark(_ value: UInt32, _ mask: UInt32, always: Bool) -> String {
    let text = "0x" + String(value, radix: 16)
    return !always && mask == UInt32.max ? text : text + "/0x" + String(mask, radix: 16)
  }

  /// `xt_rateinfo.avg` as libxt_limit prints it: the largest unit that divides evenly enough.
  func rate(_ period: UInt32) -> String {
    let scale = IPTConstants.limitScale
    let units: [(String, UInt32)] = [
      ("day", scale * 86400), ("hour", scale * 3600), ("min", scale * 60), ("sec", scale),
    ]
    guard period > 0 else { return "inf" }
    var i = 1
    while i < units.count {
      if period > units[i].1 || units[i].1 / period < units[i].1 % period { break }
      i += 1
    }
    return "\(units[i - 1].1 / period)/\(units[i - 1].0)"
  }
}
