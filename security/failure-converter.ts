import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Failure messages and stack traces go through the payload codec too (encodeCommonAttributes): they may quote what
 * was sent. Bundled into the workflow code (failureConverterPath), so it stays free of Node built-ins.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
