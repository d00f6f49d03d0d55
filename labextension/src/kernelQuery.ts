/**
 * Reading the ratatouille branch of a kernel: one silent execution with a user expression.
 *
 * `silent: true` and `store_history: false`: no output, no execution count, nothing in the history.
 * The expression reads `rat.session.branch` only when the kernel has already imported ratatouille (it
 * never makes a kernel import it) and yields an empty string otherwise; a non-Python kernel answers
 * an error. Both mean "no branch to show".
 */
import type { Kernel, KernelMessage } from '@jupyterlab/services';

/** The Python expression the kernel evaluates (a str). */
export const BRANCH_EXPRESSION =
  "(lambda m: str(m.rat.session.branch) if m is not None else '')" + "(__import__('sys').modules.get('ratatouille'))";

/** A Python `repr` of a str (`'dev'` or `"it's"`) back to the str; null when it is not one. */
export function parseReprString(text: string | undefined): string | null {
  if (!text) {
    return null;
  }
  const m = /^(['"])(.*)\1$/s.exec(text.trim());
  if (!m) {
    return null;
  }
  return m[2].replace(/\\(['"\\])/g, '$1');
}

/** Ask a kernel for its ratatouille branch (null: no ratatouille there, or not a Python kernel). */
export async function kernelBranch(kernel: Kernel.IKernelConnection): Promise<string | null> {
  const future = kernel.requestExecute(
    {
      code: '',
      silent: true,
      store_history: false,
      allow_stdin: false,
      user_expressions: { rat_branch: BRANCH_EXPRESSION }
    },
    true
  );
  const reply = (await future.done) as KernelMessage.IExecuteReplyMsg;
  const content = reply.content;
  if (content.status !== 'ok') {
    return null;
  }
  const expr = (content.user_expressions ?? {})['rat_branch'] as
    | { status: string; data?: Record<string, string> }
    | undefined;
  if (!expr || expr.status !== 'ok') {
    return null;
  }
  return parseReprString(expr.data?.['text/plain']) || null;
}
