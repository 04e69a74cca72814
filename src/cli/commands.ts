/**
 * Every `keymint` command, in the order `keymint --help` lists them. A new command is one module
 * exporting a `Command` (command.ts) and one line here; parsing and help follow from its declaration.
 */
import { apply, exportCommand } from './apply.ts';
import { clientsCreate, clientsDelete, clientsDisable, clientsEnable, clientsList, clientsRotateSecret, clientsShow, clientsUpdate } from './clients.ts';
import type { Command } from './command.ts';
import { consentsList, consentsRevoke } from './consents.ts';
import { consoleLink, consoleUsersAdd, consoleUsersList, consoleUsersRemove } from './console.ts';
import { audit, keysList, keysRotate } from './keys.ts';
import { sandbox } from './sandbox.ts';
import { migrate, serve } from './serve.ts';

export const COMMANDS: readonly Command[] = [
  serve,
  clientsCreate,
  clientsList,
  clientsShow,
  clientsUpdate,
  clientsRotateSecret,
  clientsDisable,
  clientsEnable,
  clientsDelete,
  consentsList,
  consentsRevoke,
  apply,
  exportCommand,
  keysList,
  keysRotate,
  audit,
  consoleUsersAdd,
  consoleUsersList,
  consoleUsersRemove,
  consoleLink,
  migrate,
  sandbox,
];
