import type { Command } from '../command.js';
import { copy } from './copy.js';
import { exportCommand } from './export.js';
import { importAgentSquad } from './import-agent-squad.js';
import { importCommand } from './import.js';
import { migrate } from './migrate.js';
import { sessions } from './sessions.js';
import { show } from './show.js';
import { studio } from './studio.js';

export const commands: readonly Command[] = [migrate, sessions, show, exportCommand, importCommand, copy, importAgentSquad, studio];
