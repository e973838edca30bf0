-- AlterTable
ALTER TABLE "Deployment" ADD COLUMN     "logTail" TEXT;
