/** Shapes shared by the two nodes' glue. */
import type { Node, NodeDef } from 'node-red';
import type { BflError } from '../lib/errors';
import type { Account } from '../lib/engine/account';

export interface BflConfigDef extends NodeDef {
  region?: string;
  baseUrl?: string;
  maxConcurrent?: number | string;
  resumeJobs?: boolean | string;
  dailyCreditLimit?: number | string;
  webhookUrl?: string;
}

export interface BflConfigCredentials {
  apiKey?: string;
  webhookSecret?: string;
}

export interface BflConfigNode extends Node<BflConfigCredentials> {
  /** The live account, or why the settings are unusable: every fill using this node then reports it. */
  account: Account | BflError;
}
