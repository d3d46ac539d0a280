import { lang } from "./i18n";

/**
 * Sentences for the codes the API gives with its free text: the two axes' reason codes and the
 * finding kinds. In Chinese the sentence comes first and the host's or relay's own text (English,
 * or what the upstream said) follows unchanged.
 */
const zh: Record<string, string> = {
  // health (src/domain/axes.ts HealthCode)
  serving: "账号正常，可以提供服务",
  some_accounts_unusable: "部分账号不可用",
  all_accounts_unusable: "所有账号都不可用：用户无法调用",
  no_accounts: "分组中没有账号：用户无法调用",
  access_broken: "最近一次网关验证失败：用户无法调用",
  nothing_installed: "主机上没有此供应商的资源",
  host_unreachable: "主机在最近一次探测中没有应答",
  // sync (SyncCode)
  matches: "主机与 relay 的记录一致",
  drift: "主机与 relay 的记录不一致",
  incompatible: "主机版本不在资源包支持的范围内",
  rollback_incomplete: "回滚未完成：资源仍在主机上",
  never_reconciled: "从未对账",
  not_reconciled_since_change: "上次导入或回滚后尚未对账",
  // finding kinds (src/domain/drift.ts FindingKind)
  missing: "记录中的资源已不在主机上（被手动删除？）",
  changed: "relay 设置的字段在主机上被修改",
  unexpected: "带有本安装标记的资源不在 relay 的记录中",
  account_failing: "账号测试失败或被主机暂停",
};

/** The sentence for a code in the current language, or null (English needs none: the text says it). */
export function sentence(code: string): string | null {
  return lang() === "zh" ? (zh[code] ?? null) : null;
}
