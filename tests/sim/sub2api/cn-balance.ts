import { type Ctx, route, type Sim } from "./context.js";
import { badRequest, fail, parseId, success } from "./gin.js";

/**
 * `GET /api/v1/admin/cn-providers/accounts/:id/balance` (0.1.178+, routes/admin.go:489-497,
 * handler/admin/cn_provider_handler.go:53-69, service/cn_provider_balance_service.go@67380eafd):
 * the host asks the provider's balance endpoint with the account's key. Kimi is always asked at
 * api.moonshot.cn (cnBalanceURL), so a key of the .ai platform is refused there. The result is
 * also kept in the account's extra (`<platform>_balance`, …).
 */
export function registerCnBalance(sim: Sim) {
  if (!sim.profile.cnBalance) return;
  route(sim, "GET", "/api/v1/admin/cn-providers/accounts/:id/balance", (c: Ctx) => {
    const id = parseId(c.req.param("id") ?? "");
    if (id === undefined) return badRequest(c, "Invalid account ID");
    const a = sim.state.accounts.get(id);
    if (!a || a.deletedAt) return fail(c, 404, "account not found", "CN_BALANCE_ACCOUNT_NOT_FOUND");
    if (!["kimi", "deepseek", "zhipu", "minimax"].includes(a.platform))
      return fail(c, 400, "account is not a CN provider account", "CN_BALANCE_INVALID_PLATFORM");
    if (a.credentials.account_mode === "coding")
      return fail(
        c,
        400,
        "coding plan account has no balance endpoint; use quota probe",
        "CN_BALANCE_CODING_PLAN",
      );
    if (a.platform !== "kimi" && a.platform !== "deepseek")
      return fail(c, 400, "account provider has no balance endpoint", "CN_BALANCE_NO_ENDPOINT");
    const key = String(a.credentials.api_key ?? "");
    const url =
      a.platform === "kimi"
        ? "https://api.moonshot.cn/v1/users/me/balance"
        : "https://api.deepseek.com/user/balance";
    const fetchedAt = Math.floor(Date.now() / 1000);
    const base = { provider: a.platform, fetched_at: fetchedAt, available: true, persisted: false };
    if (!sim.upstream.authorized(key, url))
      return success(c, {
        ...base,
        success: false,
        balance: 0,
        status_code: 401,
        error: "Authentication failed (HTTP 401)",
      });
    const balances = sim.upstream.balanceOf(key, a.platform);
    const available = a.platform !== "deepseek" || (balances[0]?.balance ?? 0) > 0;
    a.extra[`${a.platform}_balance`] = balances[0]?.balance ?? 0;
    a.extra[`${a.platform}_balance_currency`] = balances[0]?.currency ?? "";
    a.extra[`${a.platform}_balance_available`] = available;
    a.extra[`${a.platform}_balances`] = balances;
    return success(c, {
      ...base,
      success: true,
      balance: balances[0]?.balance ?? 0,
      currency: balances[0]?.currency,
      balances,
      available,
      status_code: 200,
      persisted: true,
    });
  });
}
