#!/usr/bin/env node
/**
 * The s3-rewind CDK app (`cdk synth`, `cdk deploy`); configuration is in
 * cdk.json's `s3-rewind:*` context. cdk-nag's AwsSolutions pack runs at
 * synthesis: an unacknowledged finding fails it.
 */
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { createApp } from '../lib/app.ts';

const { app } = createApp();
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
