/** report: folds the chunks' outcomes into the restore's report and returns its summary. */
import type { S3Client } from '@aws-sdk/client-s3';
import { writeReport } from '#core/report.ts';
import { parseReportStepInput } from '#core/step-schemas.ts';
import { s3 } from '../commons/clients.ts';
import { stepHandler } from '../commons/step-handler.ts';

export const makeHandler = (client: S3Client = s3) => stepHandler(parseReportStepInput, (input) => writeReport(client, input));

export const handler = makeHandler();
