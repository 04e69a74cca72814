/**
 * Every `keymint` command, in the order `keymint --help` lists them. A new command is one module
 * exporting a `Command` (command.ts) and one line here; parsing and help follow from its declaration.
 */
import { clientsCreate, clientsDelete, clientsDisable, clientsEnable, clientsList, clientsRotateSecret, clientsShow, clientsUpdate } from './clients.ts';
import type { Command } from './command.ts';
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
