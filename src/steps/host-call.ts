import { fromHostError } from "../domain/host-errors.js";

/**
 * Where features meet the adapter: `work` talks to the host, and a failure of the adapter leaves
 * as the AppError an operator reads (`fromHostError`, the one translation). Any other error,
 * an AppError included, passes as it is. Inside `work` a feature may still catch a HostError it
 * expects (a 404 that means "gone", a 409 that means "exists"); what it lets escape is mapped here.
 */
export async function callHost<T>(host: { baseUrl: string }, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw fromHostError(err, host.baseUrl);
  }
}
