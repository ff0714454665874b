// Registers @sa11y/jest's toBeAccessible() matcher for every LWC test.
import { setup } from '@sa11y/jest';

setup();
