import CIPTC

extension EntryEncoder {
  /// One `struct xt_entry_target` with its payload, in the revision iptables-legacy 1.8.9 picks.
  ///
  /// Verdicts, jumps and gotos are standard targets named by their label (`ACCEPT`, a chain
  /// name, `""` for none): libiptc turns the label into the kernel verdict or offset.
  func target(_ target: IPTTarget, into writer: inout EntryWriter) {
    switch target {
    case .fallThrough: writer.standard("")
    case .accept: writer.standard("ACCEPT")
    case .drop: writer.standard("DROP")
    case .return: writer.standard("RETURN")
    case .jump(let chain), .goto(let chain): writer.standard(chain)
    case .reject(let with):
      // ipt_reject_info and ip6t_reject_info are both one 32-bit `with`.
      writer.record(name: "REJECT", revision: 0, UInt32.self) { $0 = with }
    case .log(let prefix, let level, let flags):
      writer.record(name: "LOG", revision: 0, ipt_log_info.self) { info in
        info.level = level
        info.logflags = flags
        Bytes.fill(&info.prefix, string: prefix)
      }
    case .mark(let mark):
      writer.record(name: "MARK", revision: 2, xt_mark_tginfo2.self) { info in
        info.mark = mark.value
        info.mask = mark.mask
      }
    case .dnat(let range):
      writer.record(name: "DNAT", revision: 2, nf_nat_range2.self) { info in
        (info.flags, info.min_addr, info.max_addr, info.min_proto, info.max_proto) = natFields(range)
      }
    case .snat(let range):
      nat("SNAT", range, revision: 1, into: &writer)
    case .masquerade(let ports):
      nat("MASQUERADE", IPTNATRange(addresses: nil, ports: ports), revision: 0, into: &writer)
    case .redirect(let ports):
      nat("REDIRECT", IPTNATRange(addresses: nil, ports: ports), revision: 0, into: &writer)
    case .connmark(let connmark):
      writer.record(name: "CONNMARK", revision: 2, xt_connmark_tginfo2.self) { info in
        (info.ctmark, info.ctmask, info.nfmask) = (connmark.value, connmark.ctmask, connmark.nfmask)
        info.shift_dir = UInt8(connmark.shiftRight ? D_SHIFT_RIGHT : D_SHIFT_LEFT)
        info.shift_bits = connmark.shiftBits
        info.mode = connmark.mode.rawValue
      }
    case .trace:
      writer.record(name: "TRACE", revision: 0)
    case .notrack:
      writer.record(name: "CT", revision: 2, xt_ct_target_info_v1.self) { info in
        info.flags = UInt16(XT_CT_NOTRACK | XT_CT_NOTRACK_ALIAS)
      }
    case .ct(let template):
      writer.record(name: "CT", revision: 2, xt_ct_target_info_v1.self) { info in
        info.flags = template.flags
        info.zone = template.zone
        info.ct_events = template.ctEvents
        info.exp_events = template.expEvents
        Bytes.fill(&info.helper, string: template.helper)
      }
    case .nflog(let nflog):
      writer.record(name: "NFLOG", revision: 0, xt_nflog_info.self) { info in
        info.len = nflog.length
        info.group = nflog.group
        info.threshold = nflog.threshold
        info.flags = nflog.copyLength ? UInt16(XT_NFLOG_F_COPY_LEN) : 0
        Bytes.fill(&info.prefix, string: nflog.prefix)
      }
    case .tcpmss(let mss):
      writer.record(name: "TCPMSS", revision: 0, xt_tcpmss_info.self) { $0.mss = mss }
    case .dscp(let dscp):
      writer.record(name: "DSCP", revision: 0, xt_DSCP_info.self) { $0.dscp = dscp }
    case .tos(let tos):
      writer.record(name: "TOS", revision: 1, xt_tos_target_info.self) { info in
        (info.tos_value, info.tos_mask) = (tos.value, tos.mask)
      }
    case .hopLimit(let change):
      // struct ipt_TTL_info / ip6t_HL_info: mode, value.
      writer.record(name: family == .ipv4 ? "TTL" : "HL", revision: 0, (UInt8, UInt8).self) {
        $0 = (change.mode, change.value)
      }
    case .classify(let priority):
      writer.record(name: "CLASSIFY", revision: 0, xt_classify_target_info.self) { $0.priority = priority }
    case .nfqueue(let queue):
      writer.record(name: "NFQUEUE", revision: 3, xt_NFQ_info_v3.self) { info in
        (info.queuenum, info.queues_total, info.flags) = (queue.number, queue.total, queue.flags)
      }
    }
  }

  /// An IPv4 target of the compat era (`nf_nat_ipv4_multi_range_compat`, revision 0) or its IPv6
  /// twin (`nf_nat_range`, the given revision).
  func nat(_ name: String, _ range: IPTNATRange, revision: UInt8, into writer: inout EntryWriter) {
    let (flags, minAddress, maxAddress, minProto, maxProto) = natFields(range)
    switch family {
    case .ipv4:
      writer.record(name: name, revision: 0, nf_nat_ipv4_multi_range_compat.self) { info in
        info.rangesize = 1
        info.range.flags = flags
        info.range.min_ip = minAddress.ip
        info.range.max_ip = maxAddress.ip
        info.range.min = minProto
        info.range.max = maxProto
      }
    case .ipv6:
      writer.record(name: name, revision: revision, nf_nat_range.self) { info in
        (info.flags, info.min_addr, info.max_addr, info.min_proto, info.max_proto) =
          (flags, minAddress, maxAddress, minProto, maxProto)
      }
    }
  }

  /// `NF_NAT_RANGE_*` flags and the bounds of a mapping.
  func natFields(_ range: IPTNATRange) -> (
    UInt32, nf_inet_addr, nf_inet_addr, nf_conntrack_man_proto, nf_conntrack_man_proto
  ) {
    var flags: UInt32 = 0
    var minAddress = nf_inet_addr()
    var maxAddress = nf_inet_addr()
    var minProto = nf_conntrack_man_proto()
    var maxProto = nf_conntrack_man_proto()
    if let addresses = range.addresses {
      flags |= UInt32(NF_NAT_RANGE_MAP_IPS)
      Bytes.fill(&minAddress, with: addresses.first)
      Bytes.fill(&maxAddress, with: addresses.last)
    }
    if let ports = range.ports {
      flags |= UInt32(NF_NAT_RANGE_PROTO_SPECIFIED)
      minProto = Bytes.networkPort(ports.lowerBound)
      maxProto = Bytes.networkPort(ports.upperBound)
    }
    return (flags, minAddress, maxAddress, minProto, maxProto)
  }
}
