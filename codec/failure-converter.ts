/**
 * The failure converter when payloads are encrypted: a failure's message and stack trace move into
 * its encoded attributes, a payload the codec encrypts, since refusals and mail errors can quote a
 * number or an address. The worker bundles it into the workflow code too (`failureConverterPath`),
 * so it imports nothing but the SDK's common package.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
