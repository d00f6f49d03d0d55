import { describe, expect, it } from 'vitest';

import { BRANCH_EXPRESSION, kernelBranch, parseReprString } from '../src/kernelQuery';

function fakeKernel(reply: unknown) {
  const requests: unknown[] = [];
  return {
    requests,
    kernel: {
      requestExecute(content: unknown) {
        requests.push(content);
        return { done: Promise.resolve({ content: reply }) };
      }
    }
  };
}

describe('kernel branch', () => {
  it('parses a Python str repr', () => {
    expect(parseReprString("'dev-alice'")).toBe('dev-alice');
    expect(parseReprString('"it\'s"')).toBe("it's");
    expect(parseReprString("''")).toBe('');
    expect(parseReprString('None')).toBeNull();
    expect(parseReprString(undefined)).toBeNull();
  });

  it('asks with a silent execution and reads the user expression', async () => {
    const { kernel, requests } = fakeKernel({
      status: 'ok',
      user_expressions: { rat_branch: { status: 'ok', data: { 'text/plain': "'dev'" } } }
    });
    expect(await kernelBranch(kernel as never)).toBe('dev');
    expect(requests[0]).toMatchObject({
      code: '',
      silent: true,
      store_history: false,
      user_expressions: { rat_branch: BRANCH_EXPRESSION }
    });
  });

  it('answers null without ratatouille or for another language', async () => {
    const none = fakeKernel({ status: 'ok', user_expressions: { rat_branch: { status: 'ok', data: { 'text/plain': "''" } } } });
    expect(await kernelBranch(none.kernel as never)).toBeNull();
    const error = fakeKernel({ status: 'ok', user_expressions: { rat_branch: { status: 'error' } } });
    expect(await kernelBranch(error.kernel as never)).toBeNull();
    const failed = fakeKernel({ status: 'error' });
    expect(await kernelBranch(failed.kernel as never)).toBeNull();
  });
});
